"""The real app in a real browser: login, chat, refresh, restart, isolation, sessions, analytics.

The tests of this module run in order against one `streamlit run app.py` on PostgreSQL and
share the browser contexts (and so the login cookies) of alice and bob.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest
from browser_helpers import (
    CHAT_INPUT,
    TIMEOUT_MS,
    login,
    open_page,
    screenshot,
    send,
    session_id_of,
    wait_idle,
)
from playwright.sync_api import expect

import pa_core

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def state():
    """What earlier tests of this module learnt (session ids, contexts)."""
    return {}


@pytest.fixture(scope="module")
def alice_page(browser, pg_app, state):
    """alice's browser tab (its context keeps her login cookie)."""
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    yield page
    context.close()


def test_login_chat_and_session_id_in_url(alice_page, pg_app, state):
    server, url = pg_app
    page = alice_page
    login(page, server.url, "alice")
    first_sid = session_id_of(page.url)
    assert first_sid, page.url
    send(page, "What is 12 * 7?", "84")
    expect(page.get_by_text("tools: calculator")).to_be_visible()
    sid = session_id_of(page.url)
    assert sid == first_sid
    svc = pa_core.ConversationService.from_url(url)
    alice = svc.get_user("alice")
    stored = svc.get_messages(sid, user=alice)
    assert [m.role for m in stored] == ["user", "assistant"] and "84" in stored[1].content
    send(page, "Remember the zebra budget meeting on Friday", "zebra")
    state["sid"] = sid
    screenshot(page, "01-chat")


def test_reload_keeps_page_session_and_history(alice_page, pg_app, state):
    server, _ = pg_app
    page = alice_page
    before = page.url
    page.reload()
    expect(page.get_by_test_id("stChatMessage").filter(has_text="84").first).to_be_visible()
    wait_idle(page)
    assert page.url == before and session_id_of(page.url) == state["sid"]
    # Logged in by the cookie: no login form.
    expect(page.get_by_role("textbox", name="Username", exact=True)).to_have_count(0)
    expect(page.get_by_test_id("stChatMessage")).to_have_count(4)

    # A refresh on another page stays there (streamlit-authenticator #179).
    open_page(page, "Sessions", "/sessions")
    page.reload()
    expect(page.get_by_role("heading", name="Sessions")).to_be_visible()
    wait_idle(page)
    assert urlparse(page.url).path == "/sessions"

    # A bookmark with the session id opens the same conversation.
    page.goto(f"{server.url}/?session_id={state['sid']}")
    expect(page.get_by_test_id("stChatMessage").filter(has_text="zebra").first).to_be_visible()
    wait_idle(page)
    assert session_id_of(page.url) == state["sid"]


def test_server_restart_keeps_history(alice_page, pg_app, state):
    server, _ = pg_app
    page = alice_page
    server.restart()
    # The first run of a fresh process runs a URL-named page without app.py (Streamlit's
    # pages-directory mode); its guard runs app.py first, so the login gate still comes first.
    page.goto(f"{server.url}/sessions")
    expect(page.get_by_role("heading", name="Sessions")).to_be_visible()
    expect(page.locator(".st-key-pa-open-" + state["sid"])).to_have_count(1)
    wait_idle(page)
    assert urlparse(page.url).path == "/sessions"
    page.goto(f"{server.url}/?session_id={state['sid']}")
    expect(page.get_by_test_id("stChatMessage").filter(has_text="84").first).to_be_visible()
    wait_idle(page)
    expect(page.get_by_test_id("stChatMessage")).to_have_count(4)
    assert session_id_of(page.url) == state["sid"]
    screenshot(page, "02-chat-after-restart")


def test_second_user_cannot_open_the_first_users_url(browser, pg_app, state):
    server, url = pg_app
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        login(page, server.url, "bob")
        page.goto(f"{server.url}/?session_id={state['sid']}")
        expect(page.get_by_text("That conversation was not found")).to_be_visible()
        wait_idle(page)
        body = page.locator("body").inner_text()
        assert "zebra" not in body and "12 * 7" not in body
        expect(page.get_by_test_id("stChatMessage")).to_have_count(0)
        bob_sid = session_id_of(page.url)
        assert bob_sid and bob_sid != state["sid"]
        svc = pa_core.ConversationService.from_url(url)
        assert svc.get_session(bob_sid, user=svc.get_user("bob")) is None  # a row comes with
        # the first message only (the fresh id of the URL is its id then)
        screenshot(page, "03-chat-other-user")
    finally:
        context.close()


def test_sessions_page_search_open_rename_csv_delete(alice_page, pg_app, state):
    server, url = pg_app
    page = alice_page
    svc = pa_core.ConversationService.from_url(url)
    alice = svc.get_user("alice")
    # A second conversation, so "selected" exports and deletes have something to tell apart.
    page.goto(f"{server.url}/?session_id={state['sid']}")
    wait_idle(page)
    page.get_by_test_id("stMainBlockContainer").get_by_role("button", name="New chat").click()
    page.wait_for_function(
        "old => location.search.includes('session_id=') && !location.search.includes(old)",
        arg=state["sid"],
    )
    expect(page.get_by_test_id("stChatMessage")).to_have_count(0)
    wait_idle(page)
    other_sid = session_id_of(page.url)
    assert other_sid and other_sid != state["sid"]
    send(page, "What is 2 + 3?", "5")

    open_page(page, "Sessions", "/sessions")
    rows = page.locator(".st-key-pa-open-" + state["sid"])
    expect(rows).to_have_count(1)
    expect(page.locator(".st-key-pa-open-" + other_sid)).to_have_count(1)
    screenshot(page, "04-sessions")

    # Full-text search with snippet, then open the hit.
    page.get_by_role("textbox", name="Search messages").fill("zebra")
    page.get_by_role("textbox", name="Search messages").press("Enter")
    expect(page.get_by_text(re.compile("zebra", re.I)).first).to_be_visible()
    wait_idle(page)
    screenshot(page, "05-sessions-search")
    page.locator("[class*='st-key-pa-hit-'] button").first.click()
    expect(page.get_by_test_id("stChatMessage").filter(has_text="zebra").first).to_be_visible()
    wait_idle(page)
    assert session_id_of(page.url) == state["sid"]
    assert urlparse(page.url).path == "/"

    # Rename from the Sessions page. The search is kept across pages until it is cleared.
    open_page(page, "Sessions", "/sessions")
    box = page.get_by_role("textbox", name="Search messages")
    expect(box).to_have_value("zebra")
    box.fill("")
    box.press("Enter")
    page.wait_for_function("() => !new URLSearchParams(location.search).has('q')")
    wait_idle(page)
    rename = page.locator(f".st-key-pa-ren-{state['sid']} button")
    expect(rename).to_be_visible()
    rename.click()
    title_box = page.get_by_role("textbox", name="New title")
    expect(title_box).to_be_visible()
    wait_idle(page)
    title_box.fill("Zebra budget")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Zebra budget", exact=True)).to_be_visible()
    wait_idle(page)
    assert svc.get_session(state["sid"], user=alice).title == "Zebra budget"

    # CSV of the selected session only: download and read the file.
    page.locator(f".st-key-pa-sel-{state['sid']} label").click()
    button = page.get_by_role("button", name=re.compile(r"Download CSV \(1 selected session\)"))
    expect(button).to_be_visible()
    wait_idle(page)
    with page.expect_download() as info:
        button.click()
    data = Path(info.value.path()).read_bytes()
    # Exactly the service's export, UTF-8 without a BOM (as the README says).
    assert not data.startswith(b"\xef\xbb\xbf")
    assert data == "".join(svc.export_csv(alice, [state["sid"]])).encode()
    text = data.decode("utf-8")
    rows_csv = list(csv.DictReader(io.StringIO(text)))
    assert list(rows_csv[0])[:3] == ["session_id", "session_title", "username"]
    assert {r["session_id"] for r in rows_csv} == {state["sid"]}
    assert [r["role"] for r in rows_csv] == ["user", "assistant", "user", "assistant"]
    assert "84" in rows_csv[1]["content"] and rows_csv[1]["session_title"] == "Zebra budget"

    # Untick it: the button exports every session, again exactly the service's bytes.
    page.locator(f".st-key-pa-sel-{state['sid']} label").click()
    button = page.get_by_role("button", name=re.compile(r"Download CSV \(all sessions\)"))
    expect(button).to_be_visible()
    wait_idle(page)
    with page.expect_download() as info:
        button.click()
    data = Path(info.value.path()).read_bytes()
    assert data == "".join(svc.export_csv(alice)).encode()
    assert {r["session_id"] for r in csv.DictReader(io.StringIO(data.decode()))} == {
        state["sid"],
        other_sid,
    }

    # Delete the other session, with confirmation.
    page.locator(f".st-key-pa-del-{other_sid} button").click()
    expect(page.get_by_text("This cannot be undone")).to_be_visible()
    page.locator(f".st-key-pa-del-yes-{other_sid} button").click()
    expect(page.locator(".st-key-pa-open-" + other_sid)).to_have_count(0)
    wait_idle(page)
    assert svc.get_session(other_sid, user=alice) is None
    assert svc.get_session(state["sid"], user=alice) is not None


def test_analytics_renders_with_charts(alice_page, pg_app):
    server, _ = pg_app
    page = alice_page
    open_page(page, "Analytics", "/analytics")
    charts = page.get_by_test_id("stVegaLiteChart")
    expect(charts).to_have_count(3)  # messages, reply time, tools (no feedback, errors, tokens)
    expect(charts.first.locator("canvas, svg").first).to_be_visible()
    messages = page.get_by_test_id("stMetric").filter(has_text="Messages").first
    expect(messages).to_contain_text("4")
    screenshot(page, "06-analytics")
    page.get_by_text("Everyone", exact=True).click()
    expect(page.get_by_role("heading", name="Per user")).to_be_visible()
    wait_idle(page)
    screenshot(page, "07-analytics-everyone")


def test_logout_forgets_the_login(alice_page, pg_app, state):
    server, _ = pg_app
    page = alice_page
    page.goto(f"{server.url}/?session_id={state['sid']}")
    wait_idle(page)
    kept = [c for c in page.context.cookies() if c["name"] == "pa_auth"]
    assert len(kept) == 1
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    wait_idle(page)
    assert "pa_auth" not in {c["name"] for c in page.context.cookies()}
    page.reload()
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    expect(page.get_by_test_id("stChatMessage")).to_have_count(0)
    screenshot(page, "08-logged-out")
    # Even a copy of the old cookie put back (a browser that kept it) no longer logs in.
    page.context.add_cookies(kept)
    page.goto(f"{server.url}/?session_id={state['sid']}")
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    wait_idle(page)
    expect(page.get_by_placeholder(CHAT_INPUT)).to_have_count(0)
    expect(page.get_by_test_id("stChatMessage")).to_have_count(0)


def test_forged_or_expired_cookie_is_not_a_login(browser, pg_app):
    import time

    import jwt
    from browser_helpers import COOKIE_KEY

    from pa_core import auth

    server, _ = pg_app
    # The app's cookie carries its issue time (iat); one issued before alice's logout (earlier
    # in this module), or without an issue time, is refused.
    now = time.time()
    future, past = now + 30 * 86_400, now - 60
    cases = {
        "wrong key": auth.issue_login_token("alice", cookie_key="k" * 40, expiry_days=30),
        "expired": jwt.encode(
            {"username": "alice", "exp_date": past, "iat": past - 60}, COOKIE_KEY, "HS256"
        ),
        "no issue time": jwt.encode({"username": "alice", "exp_date": future}, COOKIE_KEY, "HS256"),
        "before logout": auth.issue_login_token(
            "alice", cookie_key=COOKIE_KEY, expiry_days=30, now=now - 3600
        ),
        "unknown user": auth.issue_login_token("eve", cookie_key=COOKIE_KEY, expiry_days=30),
        "garbage": "not-a-jwt",
    }
    valid = auth.issue_login_token("ALICE", cookie_key=COOKIE_KEY, expiry_days=30)
    for label, token in [*cases.items(), ("valid", valid)]:
        context = browser.new_context()
        context.add_cookies([{"name": "pa_auth", "value": token, "url": server.url}])
        page = context.new_page()
        page.goto(server.url + "/")
        if label == "valid":
            expect(page.get_by_placeholder(CHAT_INPUT)).to_be_visible()
            expect(page.get_by_test_id("stSidebar")).to_contain_text("@alice")
        else:
            expect(page.get_by_role("button", name="Log in")).to_be_visible()
            expect(page.get_by_placeholder(CHAT_INPUT)).to_have_count(0)
        context.close()


def test_mixed_case_user_logs_in_and_comes_back_by_cookie_as_one_user(browser, pg_app):
    server, url = pg_app
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        login(page, server.url, "carol")  # the YAML spells it "Carol"
        wait_idle(page)
        expect(page.get_by_test_id("stSidebar")).to_contain_text("@Carol")
        svc = pa_core.ConversationService.from_url(url)
        row = svc.get_user("Carol")
        assert row is not None and svc.get_user("carol") is None
        page.reload()  # logged in again by the cookie
        expect(page.get_by_placeholder(CHAT_INPUT)).to_be_visible()
        expect(page.get_by_test_id("stSidebar")).to_contain_text("@Carol")
        wait_idle(page)
        assert [u.username for u in svc.list_users()].count("Carol") == 1
        assert svc.get_user("Carol").id == row.id
    finally:
        context.close()
