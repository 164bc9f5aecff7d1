"""Idempotent writes: one message per (session, client_id), whoever retries and however often."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

import pa_core.service.messages as messages_module
from pa_core import SessionNotFound, ValidationError
from pa_core.service.message_sql import PG_ADD_MESSAGE_ONCE
from pa_core.service.messages import message_params
from support.query_count import count_statements
from support.threads import run_together

WRITERS = 8


@pytest.fixture
def session(svc, alice):
    return svc.create_session(user=alice)


def test_a_repeat_returns_the_stored_message_and_stores_nothing(svc, alice, session):
    sid = session.session_id
    first = svc.add_message(sid, user=alice, content="Hello", client_id="c-123")
    assert first.client_id == "c-123"
    before = svc.get_session(sid, user=alice)
    again = svc.add_message(sid, user=alice, content="Hello (retried)", client_id="c-123")
    assert again == first._replace(tools_used=again.tools_used)  # JSON [] read back as []
    assert again.content == "Hello" and again.id == first.id
    after = svc.get_session(sid, user=alice)
    assert after.message_count == 1 == before.message_count
    assert after.last_activity_at == before.last_activity_at
    [stored] = svc.get_messages(sid, user=alice)
    assert stored.client_id == "c-123" and stored.id == first.id


def test_client_ids_are_per_session_and_none_never_collides(svc, alice, session):
    other = svc.create_session(user=alice)
    a = svc.add_message(session.session_id, user=alice, content="a", client_id="same")
    b = svc.add_message(other.session_id, user=alice, content="b", client_id="same")
    assert a.id != b.id
    plain = [svc.add_message(session.session_id, user=alice, content="x") for _ in range(2)]
    assert plain[0].id != plain[1].id and plain[0].client_id is None
    assert svc.get_session(session.session_id, user=alice).message_count == 3


@pytest.mark.parametrize("bad", ["", "x" * 65, "has space", "tab\tin", "nul\x00", 12])
def test_bad_client_ids_are_refused_readably(svc, alice, session, bad):
    with pytest.raises(ValidationError, match="client_id"):
        svc.add_message(session.session_id, user=alice, content="m", client_id=bad)
    assert svc.get_messages(session.session_id, user=alice) == []


def test_64_characters_are_accepted(svc, alice, session):
    cid = "k" * 64
    assert (
        svc.add_message(session.session_id, user=alice, content="m", client_id=cid).client_id == cid
    )


def test_another_users_client_id_reveals_nothing(svc, alice, bob, session):
    svc.add_message(session.session_id, user=alice, content="secret", client_id="c-1")
    with pytest.raises(SessionNotFound):
        svc.add_message(session.session_id, user=bob, content="probe", client_id="c-1")
    with pytest.raises(SessionNotFound):
        svc.add_message(session.session_id, user=bob, content="probe", client_id="c-2")
    assert [m.content for m in svc.get_messages(session.session_id, user=alice)] == ["secret"]


def test_concurrent_retries_store_exactly_one_row(svc, alice, session):
    sid = session.session_id
    results = []

    def retry(n: int) -> None:
        for _ in range(5):
            results.append(svc.add_message(sid, user=alice, content=f"w{n}", client_id="dup"))

    assert run_together(retry, range(WRITERS)) == []
    [stored] = svc.get_messages(sid, user=alice)
    assert {r.id for r in results} == {stored.id} and len(results) == WRITERS * 5
    assert svc.get_session(sid, user=alice).message_count == 1


def test_a_writer_that_lost_the_race_rolls_back_its_bump(svc, engine, alice, session, monkeypatch):
    """PostgreSQL: the loser's snapshot does not see the winner's row, so its bump happens and
    its insert conflicts; the bump must be rolled back."""
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite writers are serialised by BEGIN IMMEDIATE: no race to lose")
    raced: list[str] = []

    class SpiedRace(messages_module.RacedDuplicate):
        def __init__(self, *args):
            raced.append(args[0])
            super().__init__(*args)

    monkeypatch.setattr(messages_module, "RacedDuplicate", SpiedRace)
    sid = session.session_id
    params = message_params(
        sid, user_id=alice.id, role="user", content="winner", tools_used=None,
        processing_time_ms=None, token_count=None, has_error=False, error_message=None,
        metadata=None, client_id="race",
    )  # fmt: skip
    results, errors = [], []
    with engine.connect() as winner:
        won = winner.execute(PG_ADD_MESSAGE_ONCE, params).one()  # holds the session row lock

        def loser() -> None:
            try:
                results.append(svc.add_message(sid, user=alice, content="loser", client_id="race"))
            except Exception as exc:  # noqa: BLE001 - asserted below
                errors.append(exc)

        thread = threading.Thread(target=loser)
        thread.start()
        with engine.connect() as probe:
            while not probe.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()"
                )
            ).scalar():
                probe.commit()  # a fresh snapshot of pg_stat_activity each round
        winner.commit()
    thread.join(timeout=60)
    assert errors == []
    [result] = results
    assert raced == ["race"]  # the loser really took the rollback path
    assert result.id == won.id and result.content == "winner"
    assert svc.get_session(sid, user=alice).message_count == 1
    assert [m.content for m in svc.get_messages(sid, user=alice)] == ["winner"]


def test_statements_per_write_with_and_without_a_client_id(svc, engine, alice, session):
    sid = session.session_id
    sqlite = engine.dialect.name == "sqlite"
    with count_statements(engine) as plain:
        svc.add_message(sid, user=alice, content="plain")
    with count_statements(engine) as fresh:
        svc.add_message(sid, user=alice, content="new", client_id="c-1")
    with count_statements(engine) as repeat:
        svc.add_message(sid, user=alice, content="new", client_id="c-1")
    # SQLite: BEGIN IMMEDIATE, (look up the client id,) UPDATE, INSERT. PostgreSQL: one CTE
    # (the row-security scope travels with it); a repeat adds the look-up of the stored message.
    assert len(plain) == (3 if sqlite else 1)
    assert len(fresh) == (4 if sqlite else 1)
    assert len(repeat) == (2 if sqlite else 2)


def test_created_at_never_goes_backwards_against_id(svc, alice, session):
    sid = session.session_id

    def writer(n: int) -> None:
        for i in range(20):
            svc.add_message(sid, user=alice, content=f"w{n}-{i}")

    assert run_together(writer, range(WRITERS)) == []
    msgs = svc.get_messages(sid, user=alice)
    assert len(msgs) == WRITERS * 20
    pairs = zip(msgs, msgs[1:], strict=False)
    backwards = [(a.id, b.id) for a, b in pairs if b.created_at < a.created_at]
    assert backwards == []
    assert svc.get_session(sid, user=alice).last_activity_at == msgs[-1].created_at


def test_a_clock_behind_the_session_is_moved_forward(svc, alice, session, monkeypatch):
    sid = session.session_id
    late = svc.add_message(sid, user=alice, content="first")
    monkeypatch.setattr(messages_module, "utcnow", lambda: late.created_at.replace(year=2001))
    early = svc.add_message(sid, user=alice, content="clock went backwards")
    assert early.created_at == late.created_at
    [_, stored] = svc.get_messages(sid, user=alice)
    assert stored.created_at == late.created_at
