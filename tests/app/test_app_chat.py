"""Chat page through AppTest: session id in the URL, history, round trip, paging, rename."""

from __future__ import annotations

import uuid

from app_helpers import assert_no_exception, texts


def _sid(at) -> str:
    return at.query_params.get("session_id")


def test_absent_session_id_creates_a_session_and_sets_the_param(app_env):
    at = app_env.app().run()
    assert_no_exception(at)
    sid = _sid(at)
    assert sid
    session = app_env.svc.get_session(sid, user=app_env.alice)
    assert session is not None and session.message_count == 0
    assert "New chat" in [s.value for s in at.subheader]
    assert "offline" in texts(at)
    # Rerunning the same browser session keeps the session instead of piling up empty ones.
    at.run()
    assert _sid(at) == sid


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
    assert app_env.svc.get_session(new_sid, user=app_env.alice) is not None
    assert svc.get_session(s.session_id, user=bob).message_count == 1  # untouched


def test_invalid_and_unknown_session_ids_start_a_new_session(app_env):
    for bad in ("not-a-uuid", str(uuid.uuid4()), "'; DROP TABLE users; --", "x" * 5000):
        at = app_env.app(query={"session_id": bad}).run()
        assert_no_exception(at)
        assert "not found" in texts(at)
        new_sid = _sid(at)
        assert new_sid != bad
        assert app_env.svc.get_session(new_sid, user=app_env.alice) is not None


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
    assert app_env.svc.get_session(new_sid, user=app_env.alice).message_count == 0
    assert "hello there" not in texts(at)


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
