"""The chat page in a real browser while its PostgreSQL server is stopped and started: every
typed message is shown at once, kept, and written exactly once, in order, without a reload.

The server is a private throwaway cluster of this module (the shared one is never stopped).
"""

from __future__ import annotations

import contextlib
import time

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
)
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

import pa_core
from pa_core import auth
from pa_core.db import create_db_engine
from support.pg_cluster import ThrowawayCluster

pytestmark = pytest.mark.browser
TYPED = [f"outage message {n} of five" for n in range(1, 6)]
KEPT = "Kept on this server"


@pytest.fixture(scope="module")
def cluster_app(tmp_path_factory):
    """A throwaway cluster, migrated, and `streamlit run app.py` on it."""
    cluster = ThrowawayCluster()
    if not cluster.available:
        pytest.skip("no initdb/pg_ctl on this machine")
    url = cluster.start()
    pa_core.migrate(url)
    tmp = tmp_path_factory.mktemp("outage")
    auth_path = tmp / "auth.yaml"
    auth.add_user(auth_path, "alice", PASSWORDS["alice"], name="Alice Admin", admin=True)
    env = app_env(url, auth_path)
    env["PA_SPOOL_DIR"] = str(tmp / "spool")
    server = StreamlitServer(env, tmp / "streamlit.log").start()
    try:
        yield server, cluster, url
    finally:
        server.stop()
        cluster.stop()


def type_while_down(page, text: str) -> None:
    """Send a message while the database is down: it shows at once, marked as kept."""
    page.get_by_placeholder(CHAT_INPUT).fill(text)
    page.get_by_placeholder(CHAT_INPUT).press("Enter")
    bubble = page.get_by_test_id("stChatMessage").filter(has_text=text)
    expect(bubble.get_by_text(KEPT)).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_placeholder(CHAT_INPUT)).to_be_editable()


def stored_user_messages(url: str, sid: str) -> list[str]:
    """The user messages of the session as the database has them (read by a new engine)."""
    engine = create_db_engine(url)
    try:
        svc = pa_core.ConversationService(engine)
        alice = svc.get_user("alice")
        if svc.get_session(sid, user=alice) is None:
            return []
        return [m.content for m in svc.get_messages(sid, user=alice) if m.role == "user"]
    finally:
        engine.dispose()


def test_messages_typed_during_an_outage_reach_the_database_without_a_reload(browser, cluster_app):
    server, cluster, url = cluster_app
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        login(page, server.url, "alice")
        sid = session_id_of(page.url)
        for text in TYPED[:2]:
            send(page, text, text)  # waits for the stored reply below the message
        page.evaluate("window.__no_reload_marker = 42")
        cluster.pause()
        try:
            type_while_down(page, TYPED[2])
            expect(page.get_by_text("The database is not available right now")).to_be_visible()
            type_while_down(page, TYPED[3])
            # Opening the chat in a new tab while the database is down: a notice, a usable
            # input and the kept messages, never a stopped page.
            other = context.new_page()
            other.goto(page.url)
            expect(other.get_by_text("The database is not available right now")).to_be_visible()
            expect(other.get_by_placeholder(CHAT_INPUT)).to_be_editable()
            expect(other.get_by_test_id("stChatMessage").filter(has_text=TYPED[3])).to_be_visible()
            other.close()
            type_while_down(page, TYPED[4])
            assert session_id_of(page.url) == sid
            screenshot(page, "30-chat-outage")
            page.set_viewport_size({"width": 390, "height": 844})
            collapse = page.get_by_test_id("stSidebarCollapseButton")
            if collapse.is_visible():  # a narrow window may close the sidebar by itself
                with contextlib.suppress(PlaywrightTimeoutError):
                    collapse.click(timeout=5000)
            page.wait_for_timeout(500)  # the sidebar's closing animation
            screenshot(page, "30-chat-outage-mobile")
            page.set_viewport_size({"width": 1280, "height": 900})
        finally:
            cluster.resume()
        deadline = time.monotonic() + 60
        while stored_user_messages(url, sid) != TYPED and time.monotonic() < deadline:
            time.sleep(0.5)
        assert stored_user_messages(url, sid) == TYPED  # all five, once each, in order
        # The page reran by itself: the kept marks are gone, the stored history is shown.
        expect(page.get_by_text(KEPT)).to_have_count(0, timeout=TIMEOUT_MS)
        expect(page.get_by_test_id("stChatMessage").filter(has_text=TYPED[4])).to_have_count(1)
        assert page.evaluate("window.__no_reload_marker") == 42  # no reload happened
        assert session_id_of(page.url) == sid
        engine = create_db_engine(url)
        try:
            svc = pa_core.ConversationService(engine)
            roles = [m.role for m in svc.get_messages(sid, user=svc.get_user("alice"))]
        finally:
            engine.dispose()
        assert roles == ["user", "assistant"] * 5
    finally:
        context.close()
