"""The database fails during a turn: the reply still comes back, the messages are written later,
exactly once, in order (a real PostgreSQL database refusing connections, a locked SQLite file)."""

from __future__ import annotations

from datetime import UTC, datetime

from pa_core.agent import ContextCache, PersonalAssistant
from pa_core.agent.assistant import UNSAVED_NOTE
from pa_core.config import Settings
from pa_core.errors import StorageError


def offline(svc, user) -> PersonalAssistant:
    settings = Settings(PA_LLM_PROVIDER="offline")
    clock = lambda: datetime(2026, 1, 1, tzinfo=UTC)  # noqa: E731
    return PersonalAssistant(svc, user, settings=settings, cache=ContextCache(), clock=clock)


def contents(svc, user, sid):
    return [(m.role, m.content) for m in svc.get_messages(sid, user=user)]


def test_reply_survives_an_outage_and_is_saved_once_after(outage):
    svc, switch = outage
    alice = svc.ensure_user("alice")
    assistant = offline(svc, alice)
    sid = assistant.chat("What is 1 + 1?").session_id
    with switch.down():
        chunks = list(assistant.stream("What is 2 + 2?", session_id=sid))
        during = assistant.last_reply
        assert "4" in "".join(chunks)
        assert during.saved is False and during.session_id == sid
        assert "".join(chunks) == during.content and during.content.endswith(UNSAVED_NOTE)
        assert "History could not be saved" in during.content
        assert during.tools_used == ["calculator"] and not during.has_error
        assert assistant.pending_count == 2
        also = assistant.chat("What is 3 + 3?", session_id=sid)
        assert also.saved is False and assistant.pending_count == 4
    after = assistant.chat("What is 4 + 4?", session_id=sid)
    assert after.saved is True and UNSAVED_NOTE not in after.content
    assert assistant.pending_count == 0
    assert contents(svc, alice, sid) == [
        ("user", "What is 1 + 1?"),
        ("assistant", "1 + 1 = **2**"),
        ("user", "What is 2 + 2?"),
        ("assistant", "2 + 2 = **4**"),
        ("user", "What is 3 + 3?"),
        ("assistant", "3 + 3 = **6**"),
        ("user", "What is 4 + 4?"),
        ("assistant", "4 + 4 = **8**"),
    ]
    stored = svc.get_messages(sid, user=alice)
    assert stored[3].tools_used == ["calculator"] and stored[3].processing_time_ms is not None
    assert svc.get_session(sid, user=alice).message_count == 8
    # Nothing is written twice by a later flush.
    assert assistant.flush_pending() == 0
    assert len(svc.get_messages(sid, user=alice)) == 8


def test_new_session_during_an_outage_gets_a_real_one_later(outage):
    svc, switch = outage
    alice = svc.ensure_user("alice")
    assistant = offline(svc, alice)
    with switch.down():
        during = assistant.chat("What is 6 * 7? (while the database is down)")
        assert "42" in during.content and during.saved is False
    # A new instance (e.g. the next Streamlit rerun) in the same process writes the backlog.
    later = offline(svc, alice)
    after = later.chat("What is 5 * 5?", session_id=during.session_id)
    assert after.saved is True and later.pending_count == 0
    real = after.session_id
    session = svc.get_session(real, user=alice)
    assert session is not None
    assert session.title == "What is 6 * 7? (while the database is down)"
    assert contents(svc, alice, real) == [
        ("user", "What is 6 * 7? (while the database is down)"),
        ("assistant", "6 * 7 = **42**"),
        ("user", "What is 5 * 5?"),
        ("assistant", "5 * 5 = **25**"),
    ]
    assert [s.session_id for s in svc.get_user_sessions(alice)] == [real]
    # The made-up id keeps pointing at the real session.
    again = later.chat("What is 1 + 2?", session_id=during.session_id)
    assert again.session_id == real and len(svc.get_messages(real, user=alice)) == 6


def test_a_write_that_reached_the_database_is_not_repeated(outage):
    svc, switch = outage
    alice = svc.ensure_user("alice")
    assistant = offline(svc, alice)
    sid = assistant.chat("What is 1 + 1?").session_id
    with switch.down():
        assistant.chat("What is 2 + 2?", session_id=sid)
    # As if the first queued write had committed although the client saw an error.
    spool = assistant.outbox.spool
    first = spool.read(spool.files()[0])
    svc.add_message(
        sid, user=alice, role=first["role"], content=first["content"],
        client_id=first["client_id"],
    )  # fmt: skip
    assert assistant.flush_pending() == 2  # both taken from the spool, the first one not again
    assert assistant.pending_count == 0
    roles = [m.role for m in svc.get_messages(sid, user=alice)]
    assert roles == ["user", "assistant", "user", "assistant"]


def test_a_flush_interrupted_after_the_session_was_created_keeps_one_session(outage, monkeypatch):
    svc, switch = outage
    alice = svc.ensure_user("alice")
    assistant = offline(svc, alice)
    with switch.down():
        during = assistant.chat("What is 6 * 7?")
    assert during.saved is False and assistant.pending_count == 2
    real_add_message = svc.add_message
    calls = 0

    def second_write_fails_once(*args, **kwargs):
        nonlocal calls
        calls += 1
        if calls == 2:
            raise StorageError("The database is not available: blip")
        return real_add_message(*args, **kwargs)

    monkeypatch.setattr(svc, "add_message", second_write_fails_once)
    assert assistant.flush_pending() == 1  # session created, first message written, then a blip
    # The session made up during the outage now exists, with the id the user already has.
    (created,) = svc.get_user_sessions(alice)
    assert created.session_id == during.session_id
    # A new message of that session must queue behind the rest.
    assert created.session_id in assistant.outbox.spool.sessions()
    assert assistant.flush_pending() == 1
    assert calls == 3 and assistant.pending_count == 0
    sessions = svc.get_user_sessions(alice)
    assert [s.session_id for s in sessions] == [created.session_id]
    real = created.session_id
    assert contents(svc, alice, real) == [
        ("user", "What is 6 * 7?"),
        ("assistant", "6 * 7 = **42**"),
    ]
    assert svc.get_session(real, user=alice).title == "What is 6 * 7?"
    again = assistant.chat("What is 1 + 2?", session_id=during.session_id)
    assert again.session_id == real and len(svc.get_messages(real, user=alice)) == 4
