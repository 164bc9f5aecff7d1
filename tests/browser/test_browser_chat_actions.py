"""The chat page in a real browser with a (fake) language model: the working indicator, Stop,
a message sent mid-reply, Retry and Regenerate, feedback, copy, and no empty session rows.

The tests of this module run in order on one `streamlit run app.py` on PostgreSQL, answering
through a small OpenAI-compatible server of the test (tests/support/llm_fake.py).
"""

from __future__ import annotations

import time
import uuid

import pytest
from browser_helpers import (
    CHAT_INPUT,
    PASSWORDS,
    TIMEOUT_MS,
    StreamlitServer,
    app_env,
    login,
    screenshot,
    send,
    session_id_of,
    wait_idle,
)
from playwright.sync_api import expect

import pa_core
from pa_core import auth
from pa_core.service.supersede import is_superseded
from support.llm_fake import FakeLLM, dripping, error, reply, slow

pytestmark = pytest.mark.browser
WORDS = [f"word{n:02d}" for n in range(80)]


@pytest.fixture(scope="module")
def llm():
    server = FakeLLM().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def model_app(pg_databases, tmp_path_factory, llm):
    """A migrated database, alice and bob, and the app answering through the fake model."""
    url = pg_databases.migrated()
    tmp = tmp_path_factory.mktemp("chat-actions")
    auth_path = tmp / "auth.yaml"
    auth.add_user(auth_path, "alice", PASSWORDS["alice"], name="Alice Admin", admin=True)
    auth.add_user(auth_path, "bob", PASSWORDS["bob"], name="Bob User")
    env = app_env(url, auth_path)
    env.update(
        PA_LLM_PROVIDER="openai",
        PA_LLM_BASE_URL=llm.url,
        PA_LLM_API_KEY="test-key",
        PA_LLM_MODEL="browser-model",
        PA_LLM_MAX_RETRIES="0",
        PA_SPOOL_DIR=str(tmp / "spool"),
    )
    server = StreamlitServer(env, tmp / "streamlit.log").start()
    try:
        yield server, pa_core.ConversationService.from_url(url)
    finally:
        server.stop()
        pg_databases.drop(url)


@pytest.fixture(scope="module")
def page(browser, model_app):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    tab = context.new_page()
    tab.set_default_timeout(TIMEOUT_MS)
    login(tab, model_app[0].url, "alice")
    yield tab
    context.close()


def stored(model_app, page):
    svc = model_app[1]
    return svc.get_messages(session_id_of(page.url), user=svc.get_user("alice"))


def eventually(check, timeout: float = 30) -> None:
    """Wait until `check()` is true (the click's rerun may not have started yet)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def type_message(page, text: str) -> None:
    page.get_by_placeholder(CHAT_INPUT).fill(text)
    page.get_by_placeholder(CHAT_INPUT).press("Enter")


def send_and_wait_for(page, text: str, word: str) -> None:
    """Send `text` and wait until the new reply bubble (two more bubbles) shows `word`."""
    messages = page.get_by_test_id("stChatMessage")
    before = messages.count()
    type_message(page, text)
    expect(messages).to_have_count(before + 2)
    expect(messages.last).to_contain_text(word)


def test_a_working_indicator_until_the_first_token(page, model_app, llm):
    llm.push(slow(3, reply("The slow answer arrived")))
    type_message(page, "First question, answered slowly")
    expect(page.get_by_text("Working on it…")).to_be_visible()
    expect(page.get_by_text("Say hello")).to_have_count(0)  # nothing stale while working
    expect(page.get_by_text("0 message(s)")).to_have_count(0)
    screenshot(page, "31-chat-working")
    messages = page.get_by_test_id("stChatMessage")
    expect(messages.filter(has_text="The slow answer arrived")).to_be_visible()
    expect(messages.last.get_by_test_id("stCaptionContainer")).to_be_visible()
    wait_idle(page)
    assert [m.role for m in stored(model_app, page)] == ["user", "assistant"]


def test_stop_stores_the_partial_reply_as_interrupted(page, model_app, llm):
    llm.push(dripping(WORDS, pause=0.2))
    send_and_wait_for(page, "Tell me a long story", "word05")
    page.get_by_role("button", name="Stop").click()
    expect(page.get_by_text("stopped before it finished")).to_be_visible()
    wait_idle(page)
    last = stored(model_app, page)[-1]
    assert last.role == "assistant" and last.message_metadata["interrupted"] is True
    assert not last.has_error and last.content.startswith("word00 word01 word02 word03 word04")
    assert "word79" not in last.content


def test_a_message_sent_mid_reply_stops_it_cleanly(page, model_app, llm):
    llm.push(dripping(WORDS, pause=0.2), reply("Here is the answer to the interruption"))
    send_and_wait_for(page, "Another long story please", "word03")
    type_message(page, "Interrupting question")
    messages = page.get_by_test_id("stChatMessage")
    expect(messages.filter(has_text="Here is the answer to the interruption")).to_be_visible()
    expect(messages.last.get_by_test_id("stCaptionContainer")).to_be_visible()
    wait_idle(page)
    rows = stored(model_app, page)[-4:]
    assert [(m.role, m.content[:20]) for m in rows] == [
        ("user", "Another long story p"),
        ("assistant", "word00 word01 word02"),
        ("user", "Interrupting questio"),
        ("assistant", "Here is the answer t"),
    ], [(m.role, m.content, m.message_metadata) for m in rows]
    assert rows[1].message_metadata["interrupted"] is True
    assert not any(m.has_error for m in stored(model_app, page))
    assert not any("closed the stream" in m.content for m in stored(model_app, page))


def test_retry_an_error_and_regenerate_keep_the_earlier_replies(page, model_app, llm):
    llm.push(error(500, "the model fell over"))
    type_message(page, "This one fails first")
    expect(page.get_by_test_id("stAlertContentError").last).to_be_visible()
    wait_idle(page)
    llm.push(reply("Recovered answer after retry"))
    page.get_by_role("button", name="Retry").click()
    expect(page.get_by_text("Recovered answer after retry")).to_be_visible()
    wait_idle(page)
    llm.push(reply("A second take on it"))
    page.get_by_role("button", name="Regenerate").click()
    expect(page.get_by_text("A second take on it")).to_be_visible()
    wait_idle(page)
    expect(page.get_by_text("Earlier reply (replaced by a newer one)")).to_have_count(2)
    rows = stored(model_app, page)[-4:]
    assert [m.role for m in rows] == ["user", "assistant", "assistant", "assistant"]
    assert rows[1].has_error and is_superseded(rows[1])
    assert rows[2].content == "Recovered answer after retry" and is_superseded(rows[2])
    assert rows[3].content == "A second take on it" and not is_superseded(rows[3])
    assert page.get_by_role("button", name="Regenerate").count() == 1


def test_feedback_comment_and_copy(page, model_app):
    last = page.get_by_test_id("stChatMessage").last
    last.get_by_test_id("stFeedback").locator("button").first.click()  # thumbs up
    eventually(lambda: stored(model_app, page)[-1].feedback == 1)
    wait_idle(page)
    last = page.get_by_test_id("stChatMessage").last
    last.get_by_role("button", name="Comment").click()
    page.get_by_label("Comment (optional)").fill("Nice second take")
    page.get_by_role("button", name="Save comment").click()
    expect(page.get_by_text("Thanks, your comment was saved.")).to_be_visible()
    wait_idle(page)
    assert stored(model_app, page)[-1].feedback_comment == "Nice second take"
    assert stored(model_app, page)[-1].feedback == 1
    last = page.get_by_test_id("stChatMessage").last
    last.get_by_role("button", name="Copy").click()
    code = page.get_by_test_id("stCode").filter(has_text="A second take on it")
    expect(code).to_be_visible()
    screenshot(page, "32-chat-copy")
    code.hover()
    code.get_by_role("button", name="Copy to clipboard").click()
    assert page.evaluate("navigator.clipboard.readText()") == "A second take on it"
    page.keyboard.press("Escape")


def test_screenshots_of_the_chat_with_actions(page, browser, model_app):
    page.mouse.move(5, 5)  # no tooltip over the messages
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.get_by_text("A second take on it").scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    screenshot(page, "33-chat-actions")
    context = browser.new_context(viewport={"width": 390, "height": 844})
    mobile = context.new_page()
    mobile.set_default_timeout(TIMEOUT_MS)
    try:
        login(mobile, model_app[0].url, "alice")
        mobile.goto(page.url)
        expect(mobile.get_by_text("A second take on it")).to_be_visible()
        wait_idle(mobile)
        mobile.get_by_role("button", name="Regenerate").scroll_into_view_if_needed()
        mobile.wait_for_timeout(300)
        screenshot(mobile, "33-chat-actions-mobile")
    finally:
        context.close()


def test_page_loads_bogus_links_and_new_chat_create_no_rows(page, model_app):
    server, svc = model_app
    alice = svc.get_user("alice")

    def rows() -> int:
        return len(svc.get_user_sessions(alice, limit=500, include_inactive=True))

    before = rows()
    for _ in range(5):
        page.goto(server.url + "/")
        expect(page.get_by_placeholder(CHAT_INPUT)).to_be_visible()
        wait_idle(page)
    bob_sid = svc.create_session(user=svc.ensure_user("bob")).session_id
    for bogus in ("not-a-uuid", str(uuid.uuid4()), bob_sid):
        page.goto(f"{server.url}/?session_id={bogus}")
        expect(page.get_by_text("That conversation was not found")).to_be_visible()
        wait_idle(page)
        assert session_id_of(page.url) != bogus
    page.locator(".st-key-pa-new-chat").get_by_role("button", name="New chat").click()
    wait_idle(page)
    fresh = session_id_of(page.url)
    page.reload()  # a reload of a fresh chat is still a fresh chat: no notice, no row
    expect(page.get_by_placeholder(CHAT_INPUT)).to_be_visible()
    wait_idle(page)
    expect(page.get_by_text("That conversation was not found")).to_have_count(0)
    assert session_id_of(page.url) == fresh
    assert rows() == before
    send(page, "Now a real message", "default reply")
    assert session_id_of(page.url) == fresh
    assert rows() == before + 1
    assert svc.get_session(fresh, user=alice).message_count == 2
