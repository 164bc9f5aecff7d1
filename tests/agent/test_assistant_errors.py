"""A turn that fails in an unexpected way, and the outbox's bound: stored, logged, never raised."""

from __future__ import annotations

import logging

import pytest

from pa_core.agent import ContextCache, Outbox, PersonalAssistant
from pa_core.agent.spool import SpoolError, SpoolFull
from pa_core.config import Settings
from pa_core.errors import StorageError

SID = "0b8e2f7c-1d2a-4c3b-9e8f-123456789abc"


class BrokenProvider:
    """A provider with a bug: it fails with an exception no provider is meant to raise."""

    name = "broken"
    model = "broken-1"
    is_offline = True

    def respond(self, messages, ctx, result, *, stream):
        yield "Let me think"
        raise TypeError("unsupported operand type(s) for +: 'int' and 'str'")

    def make_title(self, first_message):
        return None


def test_unexpected_provider_error_is_logged_with_its_traceback_and_stored(
    svc, alice, caplog, tmp_path
):
    assistant = PersonalAssistant(
        svc,
        alice,
        settings=Settings(PA_LLM_PROVIDER="offline"),
        provider=BrokenProvider(),
        cache=ContextCache(),
        outbox=Outbox(tmp_path),
    )
    with caplog.at_level(logging.ERROR, logger="pa_core.agent.assistant"):
        reply = assistant.chat("What is 1 + 1?")
    assert reply.has_error is True and reply.saved is True
    assert reply.error_message == "TypeError: unsupported operand type(s) for +: 'int' and 'str'"
    assert "TypeError" not in reply.content
    assert reply.content == "Let me think\n\n⚠️ Something went wrong while preparing the reply."
    (record,) = [r for r in caplog.records if r.name == "pa_core.agent.assistant"]
    assert record.levelno == logging.ERROR and record.exc_info is not None
    assert record.exc_info[0] is TypeError
    assert "Traceback" in caplog.text and "in respond" in caplog.text
    stored = svc.get_messages(reply.session_id, user=alice)
    assert [m.role for m in stored] == ["user", "assistant"]
    assert stored[1].has_error is True and stored[1].error_message == reply.error_message
    assert stored[1].content == reply.content


class DownService:
    """A service whose database is never reachable."""

    engine = None

    def __getattr__(self, name):
        def down(*args, **kwargs):
            raise StorageError("The database is not available: refused")

        return down


class FakeUser:
    id = 7


def test_spool_is_bounded_per_user_and_separate_spools_share_nothing(caplog, tmp_path):
    outbox = Outbox(tmp_path / "a", max_per_user=3)
    service, user = DownService(), FakeUser()
    mine = outbox.for_user(service, user, cache=ContextCache())
    again = Outbox(tmp_path / "a").for_user(service, user, cache=ContextCache())
    with caplog.at_level(logging.ERROR, logger="pa_core.agent.spool"):
        for n in range(3):
            assert mine.save(SID, role="user", content=f"m{n}", fields={}) is None
        for n in range(3, 5):  # a full spool says so: the message was NOT kept
            with pytest.raises(SpoolFull, match="NOT saved"):
                mine.save(SID, role="user", content=f"m{n}", fields={})
    assert mine.pending_count == 3 and again.pending_count == 3  # one spool per user
    spool = mine.spool
    assert [spool.read(p)["content"] for p in spool.files()] == ["m0", "m1", "m2"]
    assert "not keeping more" in caplog.text
    assert Outbox(tmp_path / "b").for_user(service, user, cache=ContextCache()).pending_count == 0
    other = type("Other", (), {"id": 8})()
    assert outbox.for_user(service, other, cache=ContextCache()).pending_count == 0


def test_spooled_messages_get_distinct_client_ids(tmp_path):
    mine = Outbox(tmp_path).for_user(DownService(), FakeUser(), cache=ContextCache())
    for _ in range(2):
        mine.save(SID, role="user", content="same", fields={})
    ids = {mine.spool.read(p)["client_id"] for p in mine.spool.files()}
    assert len(ids) == 2


def test_a_spool_that_cannot_be_written_fails_the_write_as_a_storage_error(tmp_path):
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the spool directory should be")
    mine = Outbox(blocked).for_user(DownService(), FakeUser(), cache=ContextCache())
    with pytest.raises(SpoolError, match="could not be kept on disk") as caught:
        mine.save(SID, role="user", content="lost?", fields={})
    assert isinstance(caught.value, StorageError) and mine.pending_count == 0
