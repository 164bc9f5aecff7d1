"""Import and export in a real browser: a ChatGPT export uploaded on the Sessions page, the
report, the imported chat opened, and the JSON and Markdown downloads checked byte for byte.

The tests of this module run in order against one `streamlit run app.py` on PostgreSQL and
share alice's browser context.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from browser_helpers import login, open_page, screenshot, wait_idle
from playwright.sync_api import expect

import pa_core
from support import chatgpt_sample
from support.export_check import assert_same_json_export

pytestmark = pytest.mark.browser
UPLOAD_INPUT = "[data-testid='stFileUploaderDropzoneInput']"


@pytest.fixture(scope="module")
def state():
    """What earlier tests of this module learnt (session ids)."""
    return {}


@pytest.fixture(scope="module")
def alice_page(browser, pg_app):
    """alice's browser tab, logged in."""
    server, _ = pg_app
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    login(page, server.url, "alice")
    yield page
    context.close()


def upload(page, name: str, data: bytes, mime: str) -> None:
    """Open the Import section, choose the file, press Import, wait for the run to finish."""
    section = page.get_by_test_id("stExpander").filter(has_text="Import conversations")
    uploader = section.get_by_test_id("stFileUploader").locator("visible=true")
    if not uploader.count():
        section.get_by_text("Import conversations").click()
    expect(uploader).to_have_count(1)
    uploader.locator(UPLOAD_INPUT).set_input_files(
        files=[{"name": name, "mimeType": mime, "buffer": data}]
    )
    expect(section.get_by_role("button", name=f"Remove {name}")).to_be_visible()
    wait_idle(page)
    button = page.get_by_role("button", name="Import", exact=True)
    expect(button).to_be_enabled()
    button.click()
    wait_idle(page)


def download(page, button) -> bytes:
    """Click a download button; the downloaded file's bytes."""
    expect(button).to_be_visible()
    with page.expect_download() as info:
        button.click()
    return Path(info.value.path()).read_bytes()


def test_import_a_chatgpt_export_and_open_the_chat(alice_page, pg_app, state):
    server, url = pg_app
    page = alice_page
    open_page(page, "Sessions", "/sessions")
    upload(page, "chatgpt-export.zip", chatgpt_sample.export_zip(), "application/zip")
    report = page.get_by_test_id("stAlertContentSuccess")
    expect(report).to_contain_text(
        "Imported 2 conversation(s) with 6 message(s) from chatgpt-export.zip."
    )
    expect(page.get_by_text(re.compile(r"\d+ warning\(s\)"))).to_be_visible()
    svc = pa_core.ConversationService.from_url(url)
    alice = svc.get_user("alice")
    sessions = {s.title: s for s in svc.get_user_sessions(alice, include_empty=False)}
    lisbon = sessions["Weekend in Lisbon"]
    state["lisbon"] = lisbon.session_id
    expect(page.locator(".st-key-pa-open-" + lisbon.session_id)).to_have_count(1)
    expect(page.get_by_text("Sourdough starter", exact=True)).to_be_visible()
    screenshot(page, "20-sessions-imported")

    page.locator(f".st-key-pa-open-{lisbon.session_id} button").click()
    messages = page.get_by_test_id("stChatMessage")
    expect(messages).to_have_count(4)
    wait_idle(page)
    for (_, text), bubble in zip(chatgpt_sample.LISBON, messages.all(), strict=True):
        expect(bubble).to_contain_text(text)
    expect(page.get_by_role("heading", name="Weekend in Lisbon")).to_be_visible()
    screenshot(page, "21-chat-imported")


def test_chat_downloads_are_the_services_exports(alice_page, pg_app, state):
    _, url = pg_app
    page = alice_page
    svc = pa_core.ConversationService.from_url(url)
    alice = svc.get_user("alice")
    sid = state["lisbon"]
    menu = page.get_by_test_id("stPopover").get_by_role("button", name=re.compile("Download"))
    menu.click()
    popover = page.get_by_test_id("stPopoverBody")
    expect(popover).to_be_visible()
    screenshot(page, "22-chat-download-menu")
    md = download(page, popover.get_by_role("button", name="Download this chat (Markdown)"))
    assert md == svc.export_markdown(alice, sid).encode("utf-8")
    assert b"Weekend in Lisbon" in md and b"About 300 EUR" in md
    if not popover.is_visible():
        menu.click()
    data = download(page, popover.get_by_role("button", name="Download this chat (JSON)"))
    assert_same_json_export(data, "".join(svc.export_json(alice, [sid])))
    assert [s["session_id"] for s in json.loads(data)["sessions"]] == [sid]


def test_sessions_page_json_and_markdown_downloads(alice_page, pg_app, state):
    _, url = pg_app
    page = alice_page
    svc = pa_core.ConversationService.from_url(url)
    alice = svc.get_user("alice")
    open_page(page, "Sessions", "/sessions")
    data = download(page, page.get_by_role("button", name="Download JSON (all sessions)"))
    assert_same_json_export(data, "".join(svc.export_json(alice)))
    exported = json.loads(data)["sessions"]
    titled = {s["title"] for s in exported if s["messages"]}
    assert titled == {"Weekend in Lisbon", "Sourdough starter"}  # and the empty chat of login
    sid = state["lisbon"]
    md = download(page, page.locator(f".st-key-pa-md-{sid} button"))
    assert md == svc.export_markdown(alice, sid).encode("utf-8")

    # The JSON export imports again as nothing new.
    upload(page, "backup.json", data, "application/json")
    expect(page.get_by_test_id("stAlertContentInfo")).to_contain_text(
        f"Nothing new in backup.json: {len(exported)} conversation(s) were imported before."
    )
    screenshot(page, "23-sessions-reimport")


def test_a_broken_file_shows_a_readable_error(alice_page, pg_app):
    _, url = pg_app
    page = alice_page
    upload(page, "notes.json", b'{"not": "an export"', "application/json")
    error = page.get_by_test_id("stAlertContentError")
    expect(error).to_contain_text("Nothing was imported from notes.json:")
    expect(page.get_by_test_id("stException")).to_have_count(0)
    assert "Traceback" not in page.locator("body").inner_text()
    svc = pa_core.ConversationService.from_url(url)
    assert len(svc.get_user_sessions(svc.get_user("alice"), include_empty=False)) == 2
    screenshot(page, "24-sessions-import-error")
