"""Retry / Regenerate: the last reply answered again, the earlier one kept and marked; fresh
chat ids created with exactly their id on the first message; a full spool says NOT saved."""

from __future__ import annotations

import uuid

import pytest

from pa_core import SessionNotFound, ValidationError
from pa_core.agent import LOST_NOTE, ContextCache, Outbox, PersonalAssistant, SpoolFull
from pa_core.agent.context import build_context, message_dict
from pa_core.config import Settings
from pa_core.service.supersede import is_superseded
from support.llm_fake import error, make_assistant, reply


def offline(svc, user, **kw) -> PersonalAssistant:
    settings = Settings(PA_LLM_PROVIDER="offline")
    return PersonalAssistant(svc, user, settings=settings, cache=ContextCache(), **kw)


def test_regenerate_keeps_the_earlier_reply_and_sends_it_nothing_of_it(svc, alice, llm):
    llm.push(reply("first take"), reply("second take"))
    bot = make_assistant(svc, alice, llm.url)
    first = bot.chat("Tell me about Lisbon")
    chunks = list(bot.regenerate(first.session_id, first.message_id))
    assert "".join(chunks) == "second take"
    stored = svc.get_messages(first.session_id, user=alice)
    assert [(m.role, m.content) for m in stored] == [
        ("user", "Tell me about Lisbon"),
        ("assistant", "first take"),
        ("assistant", "second take"),
    ]
    assert is_superseded(stored[1]) and not is_superseded(stored[2])
    sent = [
        (m["role"], m["content"]) for m in llm.requests[-1]["messages"] if m["role"] != "system"
    ]
    assert sent == [("user", "Tell me about Lisbon")]  # the replaced reply is not sent
    assert bot.last_reply.message_id == stored[2].id
    # The next turn's context leaves the replaced reply out too.
    llm.push(reply("third"))
    bot.chat("And Porto?", session_id=first.session_id)
    sent = [
        (m["role"], m["content"]) for m in llm.requests[-1]["messages"] if m["role"] != "system"
    ]
    assert sent == [
        ("user", "Tell me about Lisbon"),
        ("assistant", "second take"),
        ("user", "And Porto?"),
    ]


def test_retry_an_error_reply(svc, alice, llm):
    llm.push(error(500, "down"), error(500, "down"), error(500, "down"), reply("it works now"))
    bot = make_assistant(svc, alice, llm.url)
    failed = bot.chat("What is up?")
    assert failed.has_error
    llm.script.clear()
    llm.push(reply("it works now"))
    assert "".join(bot.regenerate(failed.session_id, failed.message_id)) == "it works now"
    stored = svc.get_messages(failed.session_id, user=alice)
    assert [m.has_error for m in stored] == [False, True, False]
    assert is_superseded(stored[1])


def test_only_the_last_reply_of_ones_own_session(svc, alice, bob):
    bot = offline(svc, alice)
    one = bot.chat("What is 2 + 2?")
    two = bot.chat("What is 3 + 3?", session_id=one.session_id)
    with pytest.raises(ValidationError, match="last reply"):
        list(bot.regenerate(one.session_id, one.message_id))
    with pytest.raises(ValidationError, match="last reply"):
        list(bot.regenerate(one.session_id, two.user_message_id))
    with pytest.raises(SessionNotFound):
        list(offline(svc, bob).regenerate(one.session_id, two.message_id))
    assert not any(is_superseded(m) for m in svc.get_messages(one.session_id, user=alice))


def test_superseded_replies_are_left_out_of_the_context():
    class R:
        def __init__(self, role, content, metadata=None):
            self.role, self.content, self.has_error = role, content, False
            self.message_metadata = metadata

    history = [
        message_dict(R("user", "q")),
        message_dict(R("assistant", "old", {"superseded": True})),
        message_dict(R("assistant", "new")),
        message_dict(R("user", "next")),
    ]
    assert [m["content"] for m in build_context(history, system_prompt=None)] == [
        "q",
        "new",
        "next",
    ]


def test_keep_id_creates_the_session_with_that_id_and_never_merges(svc, alice, bob):
    fresh = str(uuid.uuid4())
    assert svc.get_session(fresh, user=alice) is None
    bot = offline(svc, alice)
    list(bot.stream("What is 2 + 2?", session_id=fresh, keep_id=True))
    assert bot.last_reply.session_id == fresh
    assert svc.get_session(fresh, user=alice).message_count == 2
    # Another user's id: a new session of the caller, theirs untouched.
    theirs = svc.create_session(user=bob).session_id
    list(bot.stream("hello", session_id=theirs, keep_id=True))
    assert bot.last_reply.session_id != theirs
    assert svc.get_session(theirs, user=bob).message_count == 0
    # Without keep_id an unknown id still starts a session with a new id.
    unknown = str(uuid.uuid4())
    list(bot.stream("hello", session_id=unknown))
    assert bot.last_reply.session_id != unknown


def test_keep_id_during_an_outage_writes_to_that_id_later(outage, tmp_path):
    service, switch = outage
    alice = service.ensure_user("alice")
    fresh = str(uuid.uuid4())
    bot = offline(service, alice, outbox=Outbox(tmp_path / "spool"))
    with switch.down():
        text = "".join(bot.stream("What is 2 + 2?", session_id=fresh, keep_id=True))
        assert "kept safely" in text
        waiting = bot.pending_messages(fresh)
        assert [e["role"] for e in waiting] == ["user", "assistant"]
        assert waiting[0]["content"] == "What is 2 + 2?"
    assert bot.flush_pending() == 2
    assert bot.pending_messages(fresh) == []
    stored = service.get_messages(fresh, user=alice)
    assert [m.content for m in stored][0] == "What is 2 + 2?"


def test_a_full_spool_says_the_message_was_not_saved(outage, tmp_path):
    service, switch = outage
    alice = service.ensure_user("alice")
    sid = service.create_session(user=alice).session_id
    bot = offline(service, alice, outbox=Outbox(tmp_path / "spool", max_per_user=1))
    with switch.down():
        text = "".join(bot.stream("first, kept", session_id=sid))  # the reply does not fit
        assert text.endswith(LOST_NOTE) and "NOT saved" in text
        assert not bot.last_reply.saved
        with pytest.raises(SpoolFull, match="NOT saved"):
            list(bot.stream("second, refused", session_id=sid))
        assert [e["content"] for e in bot.pending_messages(sid)] == ["first, kept"]
    assert bot.flush_pending() == 1
    assert [m.content for m in service.get_messages(sid, user=alice)] == ["first, kept"]
