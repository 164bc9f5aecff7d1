"""A reply cut short is stored at the moment of interruption, marked, in order, and the next
turn tells the model that it was cut short."""

from __future__ import annotations

import gc
from datetime import UTC, datetime

import pytest

from pa_core.agent import ContextCache, PersonalAssistant
from pa_core.agent.context import INTERRUPTED_MARKER
from pa_core.config import Settings
from support.llm_fake import make_assistant, reply


def offline(svc, user) -> PersonalAssistant:
    settings = Settings(PA_LLM_PROVIDER="offline")
    clock = lambda: datetime(2026, 1, 1, tzinfo=UTC)  # noqa: E731
    return PersonalAssistant(svc, user, settings=settings, cache=ContextCache(), clock=clock)


@pytest.fixture
def no_gc():
    """Garbage collection off: whatever is stored was stored by close() itself."""
    gc.disable()
    yield
    gc.enable()


def test_offline_close_stores_the_partial_reply_before_it_returns(svc, alice, no_gc):
    assistant = offline(svc, alice)
    gen = assistant.stream("Hello, what can you do?")
    first = next(gen)
    sid = assistant.last_session_id
    assert [m.role for m in svc.get_messages(sid, user=alice)] == ["user"]
    gen.close()
    stored = svc.get_messages(sid, user=alice)
    assert [(m.role, m.content) for m in stored] == [
        ("user", "Hello, what can you do?"),
        ("assistant", first),
    ]
    partial = stored[1]
    assert partial.message_metadata["interrupted"] is True and partial.has_error is False
    assert partial.error_message is None
    # The next turn lands after it.
    assistant.chat("What is 2 + 2?", session_id=sid)
    roles = [m.role for m in svc.get_messages(sid, user=alice)]
    assert roles == ["user", "assistant", "user", "assistant"]
    assert gen is not None  # kept alive to the end: no finalizer could have run


def test_a_reply_that_finished_is_not_marked(svc, alice):
    assistant = offline(svc, alice)
    chunks = list(assistant.stream("Hello, what can you do?"))
    assert chunks
    [_, done] = svc.get_messages(assistant.last_session_id, user=alice)
    assert "interrupted" not in done.message_metadata


@pytest.mark.parametrize("fresh_process", [False, True])
def test_the_next_turn_sends_the_partial_reply_marked(svc, alice, llm, no_gc, fresh_process):
    llm.push(reply("The first part and then much more that never arrives"))
    assistant = make_assistant(svc, alice, llm.url)
    gen = assistant.stream("Tell me a long story")
    said = next(gen) + next(gen)
    gen.close()
    sid = assistant.last_session_id
    [_, partial] = svc.get_messages(sid, user=alice)
    assert partial.content == said and partial.message_metadata["interrupted"] is True
    assert partial.has_error is False and partial.message_metadata["streamed"] is True
    llm.push(reply("Sorry, here is the rest."))
    # From the cache of the same assistant, or from the database in a new process.
    nxt = make_assistant(svc, alice, llm.url) if fresh_process else assistant
    answer = nxt.chat("Please go on", session_id=sid)
    assert answer.content == "Sorry, here is the rest."
    sent = [
        (m["role"], m["content"]) for m in llm.requests[-1]["messages"] if m["role"] != "system"
    ]
    assert sent == [
        ("user", "Tell me a long story"),
        ("assistant", said + INTERRUPTED_MARKER),
        ("user", "Please go on"),
    ]
    stored = [m.content for m in svc.get_messages(sid, user=alice)]
    assert stored == ["Tell me a long story", said, "Please go on", "Sorry, here is the rest."]
