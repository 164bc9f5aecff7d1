"""Statements per call do not depend on how many sessions or messages exist (no N+1)."""

from __future__ import annotations

from support.query_count import count_statements


def _fill(svc, user, sessions, messages_each):
    out = []
    for _ in range(sessions):
        s = svc.create_session(user=user)
        for i in range(messages_each):
            svc.add_message(s.session_id, user=user, content=f"m{i}")
        out.append(s)
    return out


def test_session_list_statement_count_is_fixed(svc, engine, alice, bob):
    _fill(svc, alice, 3, 1)
    with count_statements(engine) as small:
        svc.get_user_sessions(alice, limit=50)
    _fill(svc, bob, 80, 2)
    with count_statements(engine) as large:
        page = svc.get_user_sessions(bob, limit=50)
        svc.get_user_sessions(bob, limit=50, before=page[-1])
    assert len(page) == 50 and all(s.message_count == 2 for s in page)
    assert len(large) == 2 * len(small)
    assert len(small) <= 2  # BEGIN on SQLite, the row-security scope on PostgreSQL; one SELECT


def test_message_page_statement_count_is_fixed(svc, engine, alice):
    [short] = _fill(svc, alice, 1, 5)
    [long] = _fill(svc, alice, 1, 300)
    with count_statements(engine) as few:
        svc.get_messages(short.session_id, user=alice, limit=50)
    with count_statements(engine) as many:
        page = svc.get_messages(long.session_id, user=alice, limit=50)
        svc.get_messages(long.session_id, user=alice, limit=50, before_id=page[0].id)
    assert len(many) == 2 * len(few) and len(few) <= 2


def test_add_message_is_one_round_trip_on_postgres(svc, engine, alice):
    s = svc.create_session(user=alice)
    with count_statements(engine) as seen:
        svc.add_message(s.session_id, user=alice, content="hello")
    # SQLite: BEGIN IMMEDIATE, UPDATE, INSERT; PostgreSQL: the CTE, the row-security scope in
    # front of it (one round trip)
    expected = 3 if engine.dialect.name == "sqlite" else 1
    assert len(seen) == expected
    if engine.dialect.name == "postgresql":
        assert "set_config('pa.user_id'" in seen[0]
