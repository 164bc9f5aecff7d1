"""Eight threads writing into one session: every message kept, each writer's in its own order."""

from __future__ import annotations

from support.threads import run_together

WRITERS = 8
PER_WRITER = 25


def test_concurrent_writers_one_session(svc, alice):
    s = svc.create_session(user=alice)

    def writer(n: int) -> None:
        for i in range(PER_WRITER):
            svc.add_message(s.session_id, user=alice, content=f"w{n}-{i}")

    assert run_together(writer, range(WRITERS)) == []
    msgs = svc.get_messages(s.session_id, user=alice)
    assert len(msgs) == WRITERS * PER_WRITER
    assert svc.get_session(s.session_id, user=alice).message_count == WRITERS * PER_WRITER
    for n in range(WRITERS):
        mine = [int(m.content.split("-")[1]) for m in msgs if m.content.startswith(f"w{n}-")]
        assert mine == list(range(PER_WRITER))
    assert [m.id for m in msgs] == sorted(m.id for m in msgs)


def test_concurrent_writers_many_sessions(svc, alice, bob):
    sessions = [svc.create_session(user=u) for u in (alice, bob) * 4]

    def writer(s) -> None:
        user = alice if s.user_id == alice.id else bob
        for i in range(PER_WRITER):
            svc.add_message(s.session_id, user=user, content=f"{i}")

    assert run_together(writer, sessions) == []
    for s in sessions:
        user = alice if s.user_id == alice.id else bob
        got = [m.content for m in svc.get_messages(s.session_id, user=user)]
        assert got == [str(i) for i in range(PER_WRITER)]
