"""The hot paths' round trips and plans: the row-security scope travels with the first statement,
page reads walk their index in order on tables without statistics, an idle pooled connection is
checked before use, and the driver-level statements return exactly what the ORM path returns."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select, text

import pa_core
from pa_core.db import create_db_engine
from pa_core.errors import StorageError
from pa_core.service import message_sql
from pa_core.service.tables import MESSAGE_COLUMNS, MESSAGES
from support.query_count import count_statements


@pytest.fixture
def pg_svc(pg_databases):
    """The service on a fresh migrated PostgreSQL database (autovacuum off: no statistics)."""
    url = pg_databases.migrated()
    engine = create_db_engine(url, pool_size=1, max_overflow=0)
    with engine.begin() as conn:
        for table in ("conversation_sessions", "conversation_messages"):
            conn.execute(text(f"ALTER TABLE {table} SET (autovacuum_enabled = false)"))
    yield pa_core.ConversationService(engine)
    engine.dispose()
    pg_databases.drop(url)


def test_every_hot_call_is_one_statement_on_postgresql(pg_svc):
    alice = pg_svc.ensure_user("alice")
    sid = pg_svc.create_session(user=alice).session_id
    pg_svc.add_message(sid, user=alice, content="warm up")
    calls = {
        "add_message": lambda: pg_svc.add_message(sid, user=alice, content="hi"),
        "add_message with client id": lambda: pg_svc.add_message(
            sid, user=alice, content="hi", client_id="c-1"
        ),
        "last 50": lambda: pg_svc.get_messages(sid, user=alice, limit=50),
        "whole history": lambda: pg_svc.get_messages(sid, user=alice),
        "session page": lambda: pg_svc.get_user_sessions(alice, limit=50),
        "get_session": lambda: pg_svc.get_session(sid, user=alice),
    }
    for name, call in calls.items():
        with count_statements(pg_svc.engine) as seen:
            call()
        assert len(seen) == 1, (name, seen)
        assert seen[0].startswith("SELECT set_config('pa.user_id'"), (name, seen[0][:80])


def test_a_scope_never_outlives_its_transaction(pg_svc):
    alice = pg_svc.ensure_user("alice")
    with pg_svc.transaction(user_id=alice.id) as conn:
        pass  # nothing sent: the scope stays pending, then is dropped
    with pg_svc.transaction() as conn, count_statements(pg_svc.engine) as seen:
        conn.execute(text("SELECT 1"))
    assert seen == ["SELECT 1"]


def _plan(svc, sql: str, params: dict, *, ordered: bool, user_id: int) -> str:
    with svc.transaction(user_id=user_id, ordered=ordered) as conn:
        rows = conn.exec_driver_sql("EXPLAIN " + sql, params).all()
    return "\n".join(r[0] for r in rows)


def test_pages_walk_their_index_on_tables_without_statistics(pg_svc):
    alice = pg_svc.ensure_user("alice")
    sid = pg_svc.create_session(user=alice).session_id
    for i in range(300):
        pg_svc.add_message(sid, user=alice, content=f"message {i}")
        pg_svc.create_session(user=alice)
    with pg_svc.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM pg_stats WHERE tablename LIKE 'conv%'")
                            ).scalar_one() == 0  # fmt: skip
    last50 = message_sql.DRIVER_PAGE[(True, False)]
    params = {"sid": sid, "uid": alice.id, "lim": 50}
    unordered = _plan(pg_svc, last50, params, ordered=False, user_id=alice.id)
    ordered = _plan(pg_svc, last50, params, ordered=True, user_id=alice.id)
    assert "Sort" in unordered  # the plan a table without statistics gets by default
    assert "Sort" not in ordered and "Bitmap" not in ordered, ordered
    assert "Index Scan Backward using ix_messages_session_id_id" in ordered, ordered
    with count_statements(pg_svc.engine) as seen:
        page = pg_svc.get_user_sessions(alice, limit=50)
    assert len(page) == 50 and "enable_sort" in seen[0]


def test_driver_pages_equal_the_orm_rows(pg_svc):
    alice = pg_svc.ensure_user("alice")
    sid = pg_svc.create_session(user=alice).session_id
    pg_svc.add_message(sid, user=alice, content="plain")
    pg_svc.add_message(
        sid, user=alice, role="assistant", content="tool", tools_used=["calculator"],
        processing_time_ms=12, token_count=3, metadata={"model": "m", "n": [1, 2]},
        client_id="a-1",
    )  # fmt: skip
    pg_svc.add_message(sid, user=alice, role="assistant", content="bad", has_error=True,
                       error_message="Boom: no")  # fmt: skip
    got = pg_svc.get_messages(sid, user=alice)
    with pg_svc.transaction(everyone=True) as conn:
        rows = conn.execute(select(*MESSAGE_COLUMNS).order_by(MESSAGES.c.id)).all()
    assert [tuple(m) for m in got] == [tuple(r) for r in rows]
    assert got[1].tools_used == ["calculator"] and got[1].message_metadata["n"] == [1, 2]
    assert all(m.created_at.utcoffset().total_seconds() == 0 for m in got)
    assert pg_svc.get_messages(sid, user=alice, limit=2, before_id=got[2].id) == got[:2]


def _kill_pooled_connection(engine, url: str) -> None:
    """Terminate the server process of the engine's one pooled connection; wait until it is gone."""
    with engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    killer = create_db_engine(url)
    with killer.connect() as admin:
        admin.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        for _ in range(100):
            alive = admin.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"), {"p": pid}
            ).scalar_one()
            if not alive:
                break
            time.sleep(0.05)
    killer.dispose()


@pytest.mark.parametrize("how", ["closed by the server", "control: never pinged"])
def test_a_dead_pooled_connection_is_replaced_before_use(pg_databases, how):
    url = pg_databases.migrated()
    options = {
        "closed by the server": {"ping_after_idle_s": 3600},  # caught by its readable socket
        "control: never pinged": {"pool_pre_ping": False},
    }[how]
    engine = create_db_engine(url, pool_size=1, max_overflow=0, **options)
    try:
        svc = pa_core.ConversationService(engine)
        alice = svc.ensure_user("alice")
        _kill_pooled_connection(engine, url)
        time.sleep(0.1)
        if how.startswith("control"):
            with pytest.raises(StorageError):  # the dead connection is handed out, fails once
                svc.list_users()
        assert svc.list_users() == [alice]
    finally:
        engine.dispose()
        pg_databases.drop(url)


@pytest.mark.parametrize(("after_s", "pinged"), [(0.05, True), (3600, False)])
def test_only_a_connection_idle_past_the_threshold_is_pinged(pg_databases, after_s, pinged):
    url = pg_databases.migrated()
    engine = create_db_engine(url, pool_size=1, max_overflow=0, ping_after_idle_s=after_s)
    watcher = create_db_engine(url)
    started = text("SELECT query_start FROM pg_stat_activity WHERE pid = :p")
    try:
        with engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        time.sleep(0.2)  # idle: past the short threshold, far below the long one
        with watcher.connect() as w:
            before = w.execute(started, {"p": pid}).scalar_one()
            w.rollback()  # the activity view is one snapshot per transaction
            with engine.connect():  # the checkout alone: a ping is a query of its own
                after = w.execute(started, {"p": pid}).scalar_one()
        assert (after != before) is pinged
    finally:
        engine.dispose()
        watcher.dispose()
        pg_databases.drop(url)


def test_a_driver_statement_on_a_lost_connection_is_a_storage_error(pg_databases):
    url = pg_databases.migrated()
    engine = create_db_engine(url, pool_size=1, max_overflow=0, pool_pre_ping=False)
    try:
        svc = pa_core.ConversationService(engine)
        alice = svc.ensure_user("alice")
        sid = svc.create_session(user=alice).session_id
        _kill_pooled_connection(engine, url)
        with pytest.raises(StorageError, match="not available"):  # not a psycopg2 error
            svc.add_message(sid, user=alice, content="lost")
        svc.add_message(sid, user=alice, content="kept")  # the dead connection was replaced
        assert [m.content for m in svc.get_messages(sid, user=alice)] == ["kept"]
    finally:
        engine.dispose()
        pg_databases.drop(url)
