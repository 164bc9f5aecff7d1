"""Chat page through AppTest: feedback, comments, Regenerate/Retry keep the earlier reply
(marked superseded), long messages folded, the image filter on every message, the outage."""

from __future__ import annotations

import pytest
from app_helpers import assert_no_exception, texts

import pa_core
from pa_core.agent.outbox import shared_outbox
from pa_core.service.supersede import is_superseded
from support.outage import PgOutage


def _sid(at) -> str:
    return at.query_params.get("session_id")


def _chat(app_env, text="What is 12 * 7?"):
    at = app_env.app().run()
    at.chat_input[0].set_value(text).run()
    assert_no_exception(at)
    return at, _sid(at)


def test_thumbs_and_comment_are_stored_on_the_reply(app_env):
    at, sid = _chat(app_env)
    [feedback] = at.feedback
    feedback.set_value(0).run()  # thumbs down
    assert_no_exception(at)
    reply = app_env.svc.get_messages(sid, user=app_env.alice)[-1]
    assert reply.role == "assistant" and reply.feedback == -1
    [box] = [t for t in at.text_area if t.label == "Comment (optional)"]
    box.set_value("the answer was too short")
    [b for b in at.button if b.label == "Save comment"][0].click().run()
    assert_no_exception(at)
    reply = app_env.svc.get_messages(sid, user=app_env.alice)[-1]
    assert reply.feedback == -1 and reply.feedback_comment == "the answer was too short"
    assert "comment was saved" in texts(at)
    at.feedback[0].set_value(1).run()
    assert app_env.svc.get_messages(sid, user=app_env.alice)[-1].feedback == 1
    assert at.feedback[0].value == 1  # shown as stored


def test_regenerate_keeps_the_earlier_reply_marked_and_collapsed(app_env):
    at, sid = _chat(app_env)
    [regen] = [b for b in at.button if b.label == "Regenerate"]
    regen.click().run()
    assert_no_exception(at)
    stored = app_env.svc.get_messages(sid, user=app_env.alice)
    assert [m.role for m in stored] == ["user", "assistant", "assistant"]  # no second question
    assert is_superseded(stored[1]) and not is_superseded(stored[2])
    assert "84" in stored[2].content
    assert [e.label for e in at.expander if "replaced" in e.label] == [
        "Earlier reply (replaced by a newer one)"
    ]
    # The export says so too.
    md = app_env.svc.export_markdown(app_env.alice, sid)
    assert md.count("Superseded") == 1
    # Only the newest reply offers Regenerate.
    assert len([b for b in at.button if b.label == "Regenerate"]) == 1


def test_retry_on_an_error_reply(app_env):
    svc, alice = app_env.svc, app_env.alice
    at = app_env.app().run()
    sid = _sid(at)
    svc.restore_session(sid, user=alice)
    svc.add_message(sid, user=alice, role="user", content="What is 2 + 3?")
    svc.add_message(
        sid,
        user=alice,
        role="assistant",
        content="Failed ![pixel](http://tracker.example/e.gif)",
        has_error=True,
        error_message="boom ![x](http://tracker.example/d.gif)",
    )
    at.run()
    # The image filter on the error box and on its caption.
    [err] = at.error
    assert "\\![pixel](http://tracker.example/e.gif)" in err.value
    assert any("\\![x](http://tracker.example/d.gif)" in c.value for c in at.caption)
    [retry] = [b for b in at.button if b.label == "Retry"]
    retry.click().run()
    assert_no_exception(at)
    stored = svc.get_messages(sid, user=alice)
    assert [m.role for m in stored] == ["user", "assistant", "assistant"]
    assert stored[1].has_error and is_superseded(stored[1])
    assert "5" in stored[2].content and not stored[2].has_error


def test_long_messages_are_folded_with_show_more(app_env):
    svc, alice = app_env.svc, app_env.alice
    s = svc.create_session(user=alice)
    long_text = "\n".join(f"line {i:03d} of a long message" for i in range(200))
    svc.add_message(s.session_id, user=alice, role="user", content=long_text)
    at = app_env.app(query={"session_id": s.session_id}).run()
    shown = [m.value for m in at.markdown if "of a long message" in m.value]
    assert shown and "line 010" in shown[0] and "line 199" not in shown[0]
    [more] = [b for b in at.button if b.label == "Show more"]
    more.click().run()
    shown = [m.value for m in at.markdown if "of a long message" in m.value]
    assert "line 199" in shown[0]
    assert [b for b in at.button if b.label == "Show less"]


def test_copy_offers_the_raw_text(app_env):
    at, sid = _chat(app_env, "copy **me** please")
    codes = [c.value for c in at.code]
    assert "copy **me** please" in codes


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_outage_keeps_the_page_working_and_syncs_when_back(app_env, pg_databases):
    at, sid = _chat(app_env, "first, stored")
    outage = PgOutage(pg_databases.admin_url, app_env.url)
    try:
        with outage.down():
            at.run()  # opening the page while the database is down: a notice, no stop
            assert_no_exception(at)
            assert "database is not available" in texts(at)
            assert _sid(at) == sid
            at.chat_input[0].set_value("typed while down").run()
            assert_no_exception(at)
            body = texts(at)
            assert "typed while down" in body and "Kept on this server" in body
            assert at.chat_input  # still there
            assert _sid(at) == sid
        at.run()  # the sync runs with the page and reruns it once everything is written
        assert_no_exception(at)
        stored = app_env.svc.get_messages(sid, user=app_env.alice)
        users = [m.content for m in stored if m.role == "user"]
        assert users == ["first, stored", "typed while down"]
        assert "Kept on this server" not in texts(at)
    finally:
        outage.close()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_full_spool_never_claims_the_message_is_kept(app_env, pg_databases):
    at, sid = _chat(app_env, "stored before")
    outbox = shared_outbox(pa_core.get_settings().spool_dir)
    outbox.spool.limit = 1  # this user's spool holds one message
    outage = PgOutage(pg_databases.admin_url, app_env.url)
    try:
        with outage.down():
            at.chat_input[0].set_value("kept, but its reply is not").run()
            assert_no_exception(at)
            assert "reply was NOT saved" in texts(at)
            at.chat_input[0].set_value("this one cannot be kept").run()
            assert_no_exception(at)
            errors = [e.value for e in at.error]
            assert any("this message was NOT saved" in e for e in errors)
            assert "this one cannot be kept" in [c.value for c in at.code]  # to copy
            assert "Kept on this server" in texts(at)  # the first one is kept
        at.run()
        stored = app_env.svc.get_messages(sid, user=app_env.alice)
        assert [m.role for m in stored] == ["user", "assistant", "user"]  # the lost reply: none
        assert [stored[0].content, stored[2].content] == [
            "stored before",
            "kept, but its reply is not",
        ]
    finally:
        outbox.spool.limit = 10_000
        outage.close()
