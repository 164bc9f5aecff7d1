"""Chat page through AppTest: session id in the URL, history, round trip, paging, rename."""

from __future__ import annotations

import uuid

from app_helpers import assert_no_exception, texts


def _sid(at) -> str:
    return at.query_params.get("session_id")


def _rows(app_env, user=None) -> int:
    """How many session rows the user has (archived and empty ones included)."""
    user = user or app_env.alice
    return len(app_env.svc.get_user_sessions(user, limit=500, include_inactive=True))


def test_absent_session_id_puts_a_fresh_id_in_the_url_without_a_row(app_env):
    at = app_env.app().run()
    assert_no_exception(at)
    sid = _sid(at)
    assert sid and app_env.svc.get_session(sid, user=app_env.alice) is None
    assert "New chat" in [s.value for s in at.subheader]
    assert "offline" in texts(at) and "not found" not in texts(at)
    assert "0 message(s)" not in texts(at)
    # Rerunning the same browser session keeps the fresh id, and a reload (a new browser
    # session with that URL) knows it as a fresh chat of ours: no notice, still no row.
    at.run()
    assert _sid(at) == sid
    again = app_env.app(query={"session_id": sid}).run()
    assert _sid(again) == sid and "not found" not in texts(again)
    assert _rows(app_env) == 0


def test_page_loads_and_bogus_links_create_no_rows(app_env):
    for _ in range(5):
        assert_no_exception(app_env.app().run())
    bob_session = app_env.svc.create_session(user=app_env.bob)
    for bad in ("not-a-uuid", str(uuid.uuid4()), bob_session.session_id):
        at = app_env.app(query={"session_id": bad}).run()
        assert_no_exception(at)
        assert "not found" in texts(at)
    assert _rows(app_env) == 0
    assert _rows(app_env, app_env.bob) == 1


def test_the_first_message_creates_the_row_with_the_id_of_the_url(app_env):
    at = app_env.app().run()
    sid = _sid(at)
    at.chat_input[0].set_value("hello there").run()
    assert_no_exception(at)
    assert _sid(at) == sid
    session = app_env.svc.get_session(sid, user=app_env.alice)
    assert session is not None and session.message_count == 2
    assert _rows(app_env) == 1


def test_a_fresh_id_of_another_user_is_never_merged_into(app_env):
    bob_at = app_env.app(username="bob").run()
    bob_sid = _sid(bob_at)
    bob_at.chat_input[0].set_value("bob-private-words").run()
    # alice opens bob's (now stored) chat id and writes: a new session of hers.
    at = app_env.app(query={"session_id": bob_sid}).run()
    assert "not found" in texts(at) and "bob-private-words" not in texts(at)
    at.chat_input[0].set_value("alice words").run()
    assert_no_exception(at)
    alice_sid = _sid(at)
    assert alice_sid != bob_sid
    assert [m.content for m in app_env.svc.get_messages(bob_sid, user=app_env.bob)][0] == (
        "bob-private-words"
    )
    assert app_env.svc.get_messages(alice_sid, user=app_env.alice)[0].content == "alice words"


def test_own_session_id_shows_its_history(app_env):
    svc, alice = app_env.svc, app_env.alice
    s = svc.create_session(user=alice, title="Trip plans")
    svc.add_message(s.session_id, user=alice, role="user", content="Train to **Milan**?")
    svc.add_message(
        s.session_id,
        user=alice,
        role="assistant",
        content="The 07:10 departs from Zurich.",
        tools_used=["search_history"],
        processing_time_ms=42,
        token_count=17,
    )
    at = app_env.app(query={"session_id": s.session_id}).run()
    assert_no_exception(at)
    assert _sid(at) == s.session_id
    assert "Trip plans" in [x.value for x in at.subheader]
    body = texts(at)
    assert "Train to **Milan**?" in body and "The 07:10 departs from Zurich." in body
    assert "not found" not in body
    caption = [c.value for c in at.caption if "search_history" in c.value]
    assert caption and "42 ms" in caption[0] and "17 tokens" in caption[0]
    assert [m.name for m in at.chat_message] == ["user", "assistant"]


def test_foreign_session_id_starts_a_new_session_and_shows_nothing_of_it(app_env):
    svc, bob = app_env.svc, app_env.bob
    s = svc.create_session(user=bob, title="Bob's secret plans")
    svc.add_message(s.session_id, user=bob, role="user", content="bob-only-content")
    at = app_env.app(query={"session_id": s.session_id}).run()
    assert_no_exception(at)
    body = texts(at)
    assert "bob-only-content" not in body and "Bob's secret plans" not in body
    assert "not found" in body
    new_sid = _sid(at)
    assert new_sid and new_sid != s.session_id
    assert app_env.svc.get_session(new_sid, user=app_env.alice) is None  # no row until used
    assert svc.get_session(s.session_id, user=bob).message_count == 1  # untouched


def test_invalid_and_unknown_session_ids_start_a_new_session(app_env):
    for bad in ("not-a-uuid", str(uuid.uuid4()), "'; DROP TABLE users; --", "x" * 5000):
        at = app_env.app(query={"session_id": bad}).run()
        assert_no_exception(at)
        assert "not found" in texts(at)
        new_sid = _sid(at)
        assert new_sid != bad
        assert app_env.svc.get_session(new_sid, user=app_env.alice) is None


def test_chat_round_trip_stores_both_messages_and_titles_the_session(app_env):
    at = app_env.app().run()
    sid = _sid(at)
    at.chat_input[0].set_value("What is 12 * 7?").run()
    assert_no_exception(at)
    assert _sid(at) == sid
    stored = app_env.svc.get_messages(sid, user=app_env.alice)
    assert [m.role for m in stored] == ["user", "assistant"]
    assert "84" in stored[1].content and stored[1].tools_used == ["calculator"]
    # After the rerun the page shows the stored conversation with its caption.
    assert "84" in texts(at)
    assert any("calculator" in c.value for c in at.caption)
    assert app_env.svc.get_session(sid, user=app_env.alice).title


def test_markdown_is_rendered_but_html_never_allowed(app_env):
    svc, alice = app_env.svc, app_env.alice
    s = svc.create_session(user=alice)
    svc.add_message(s.session_id, user=alice, role="user", content="<script>alert(1)</script>")
    svc.add_message(
        s.session_id, user=alice, role="assistant", content="<img src=x onerror=alert(2)>"
    )
    at = app_env.app(query={"session_id": s.session_id}).run()
    assert_no_exception(at)
    shown = [m for m in at.markdown if "alert(" in m.value]
    assert len(shown) == 2
    assert all(not m.proto.allow_html for m in shown)


def test_markdown_images_do_not_load_remote_urls(app_env):
    svc, alice = app_env.svc, app_env.alice
    s = svc.create_session(user=alice)
    svc.add_message(s.session_id, user=alice, content="look ![pixel](http://tracker.example/p.gif)")
    at = app_env.app(query={"session_id": s.session_id}).run()
    assert_no_exception(at)
    [shown] = [m for m in at.markdown if "tracker.example" in m.value]
    assert "\\![pixel](http://tracker.example/p.gif)" in shown.value
    # The title is markdown too (st.subheader): shown literally, no image.
    svc.rename_session(s.session_id, user=alice, title="![t](http://tracker.example/t.gif)")
    at.run()
    assert [x.value for x in at.subheader] == ["\\!\\[t\\]\\(http://tracker\\.example/t\\.gif\\)"]


def test_error_messages_look_like_errors(app_env):
    svc, alice = app_env.svc, app_env.alice
    s = svc.create_session(user=alice)
    svc.add_message(s.session_id, user=alice, role="user", content="hi")
    svc.add_message(
        s.session_id,
        user=alice,
        role="assistant",
        content="The model is not reachable right now.",
        has_error=True,
        error_message="ConnectError: connection refused",
    )
    at = app_env.app(query={"session_id": s.session_id}).run()
    assert [e.value for e in at.error] == ["The model is not reachable right now."]
    assert any("connection refused" in c.value for c in at.caption)


def test_long_session_shows_last_50_and_loads_earlier_pages(app_env):
    svc, alice = app_env.svc, app_env.alice
    s = svc.create_session(user=alice, title="Long")
    for i in range(120):
        svc.add_message(s.session_id, user=alice, role="user", content=f"message number {i:03d}")
    at = app_env.app(query={"session_id": s.session_id}).run()
    assert_no_exception(at)

    def shown():
        return [m.value for m in at.markdown if m.value.startswith("message number")]

    assert shown() == [f"message number {i:03d}" for i in range(70, 120)]
    load = [b for b in at.button if b.label.startswith("Load earlier messages")]
    assert load and "70 more" in load[0].label
    load[0].click().run()
    assert shown() == [f"message number {i:03d}" for i in range(20, 120)]
    [b for b in at.button if b.label.startswith("Load earlier messages")][0].click().run()
    assert shown() == [f"message number {i:03d}" for i in range(120)]
    assert not [b for b in at.button if b.label.startswith("Load earlier messages")]


def test_rename_and_new_chat(app_env):
    at = app_env.app().run()
    sid = _sid(at)
    at.chat_input[0].set_value("hello there").run()
    title_input = [t for t in at.text_input if t.label == "Title"][0]
    title_input.set_value("Renamed chat")
    [b for b in at.button if b.label == "Save title"][0].click().run()
    assert_no_exception(at)
    assert app_env.svc.get_session(sid, user=app_env.alice).title == "Renamed chat"
    assert "Renamed chat" in [s.value for s in at.subheader]

    at.button(key="pa-new-chat").click().run()
    new_sid = _sid(at)
    assert new_sid and new_sid != sid
    assert app_env.svc.get_session(new_sid, user=app_env.alice) is None  # no row until used
    assert "hello there" not in texts(at) and "not found" not in texts(at)
    assert _rows(app_env) == 1


def test_download_button_is_offered(app_env):
    svc, alice = app_env.svc, app_env.alice
    s = svc.create_session(user=alice)
    svc.add_message(s.session_id, user=alice, role="user", content="export me")
    at = app_env.app(query={"session_id": s.session_id}).run()
    labels = [b.label for b in at.download_button]
    assert "Download this chat (CSV)" in labels


def test_chat_answers_through_the_configured_model(app_env, monkeypatch):
    from support.llm_fake import FakeLLM, reply

    llm = FakeLLM().start()
    try:
        monkeypatch.setenv("PA_LLM_PROVIDER", "openai")
        monkeypatch.setenv("PA_LLM_BASE_URL", llm.url)
        monkeypatch.setenv("PA_LLM_API_KEY", "test-key")
        monkeypatch.setenv("PA_LLM_MODEL", "app-test-model")
        llm.push(reply("Bonjour from the configured model", usage=(12, 5)))
        at = app_env.app().run()
        assert_no_exception(at)
        assert "offline" not in texts(at)
        sid = _sid(at)
        at.chat_input[0].set_value("Say hello in French").run()
        assert_no_exception(at)
        assert "Bonjour from the configured model" in texts(at)
        sent = llm.requests[0]
        assert sent["model"] == "app-test-model"
        assert sent["messages"][-1] == {"role": "user", "content": "Say hello in French"}
        assert llm.headers[0]["authorization"] == "Bearer test-key"
        stored = app_env.svc.get_messages(sid, user=app_env.alice)
        assert [m.content for m in stored] == [
            "Say hello in French",
            "Bonjour from the configured model",
        ]
        assert stored[1].token_count == 17
    finally:
        llm.stop()
