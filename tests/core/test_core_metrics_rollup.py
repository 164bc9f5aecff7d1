"""Everyone's session_metrics from roll-ups equals the live computation, and stays equal.

PostgreSQL merges the roll-ups of closed days and hours with the live rest of the range; SQLite
computes live. Each test compares the served metrics with the live computation on the same data
(pa_core.service.analytics with rollups=False), after fills, late imports, updates and deletes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

import pa_core
from pa_core.db import create_db_engine
from pa_core.migrate import downgrade
from pa_core.service import analytics, rollup_fill
from support.dated_export import document, session, turn
from support.query_count import count_statements

NOW = datetime.now(UTC)
MIDNIGHT = NOW.replace(hour=0, minute=0, second=0, microsecond=0)
ERRORS = ("RateLimitError: 429 Too Many Requests\ntrace", "calculator failed: 1/0", "  \n x")


def _turns(start: datetime, n: int, seed: int) -> list[dict]:
    """n turns 7 minutes apart with varied times, tokens, feedback, errors and tools."""
    out: list[dict] = []
    for i in range(n):
        k = seed * 31 + i
        out += turn(
            start + timedelta(minutes=7 * i),
            f"q{k}",
            f"a{k}",
            ms=None if k % 11 == 0 else 5 + (k * 37) % 400,
            tokens=None if k % 3 else 10 + k % 50,
            feedback=(None, 1, -1)[k % 3] if k % 4 == 0 else None,
            error=ERRORS[k % 3] if k % 9 == 0 else None,
            tools=[("calculator", "web", "clock")[k % 3]] * (k % 2) + ["web"] * (k % 5 == 0),
        )
    return out


def _seed(svc) -> None:
    """Two users over the last 6 days: sessions across midnight, and today's tail."""
    for u, name in enumerate(("alice", "bob")):
        user = svc.ensure_user(name)
        sessions = [
            session(f"{name} {d}", _turns(MIDNIGHT - timedelta(days=d, hours=2 + u), 30, d + u))
            for d in range(1, 7)
        ]
        svc.import_conversations(user, document(name, sessions))
        today = svc.create_session(user=user, title="today")
        for i in range(3):
            svc.add_message(today.session_id, user=user, content=f"now {i}")
            svc.add_message(
                today.session_id,
                user=user,
                role="assistant",
                content="ok",
                processing_time_ms=100 + i,
                tools_used=["clock"],
            )


def _live(svc, since, until, user=None):
    uid = None if user is None else user.id
    with svc.transaction(user_id=uid, everyone=uid is None) as conn:
        return analytics.session_metrics(
            conn, user_id=uid, since=since, until=until, sqlite=svc._sqlite, rollups=False
        )


def _buckets(svc) -> list[tuple]:
    if svc._sqlite:
        return []
    with svc.transaction(everyone=True) as conn:
        return conn.execute(
            text(
                "SELECT 0, span_hours, bucket FROM metric_buckets UNION ALL "
                "SELECT user_id, span_hours, bucket FROM metric_user_buckets ORDER BY 1, 2, 3"
            )
        ).all()


RANGES = [
    (NOW - timedelta(days=30), NOW + timedelta(days=1)),
    (MIDNIGHT - timedelta(days=4, hours=5, minutes=13), MIDNIGHT - timedelta(hours=20)),
    (None, None),
    (MIDNIGHT - timedelta(days=2), None),
]


def _assert_exact(svc) -> None:
    """Everyone's and each user's metrics equal the live computation over every range."""
    for user in (None, *svc.list_users()):
        for since, until in RANGES:
            assert svc.session_metrics(user, since, until) == _live(svc, since, until, user)


def test_rolled_up_metrics_equal_the_live_ones(svc):
    _seed(svc)
    _assert_exact(svc)
    filled = _buckets(svc)
    if not svc._sqlite:
        assert {(o > 0, s) for o, s, _ in filled} == {(a, s) for a in (0, 1) for s in (1, 24)}
        m = svc.session_metrics(since=RANGES[0][0], until=RANGES[0][1])
        assert m.messages == 2 * 6 * 60 + 12 and len(m.per_user) == 2
    _assert_exact(svc)  # the second time from the stored roll-ups
    assert _buckets(svc) == filled


def test_late_imports_feedback_and_deletes_keep_it_exact(svc):
    _seed(svc)
    _assert_exact(svc)
    alice = svc.get_user("alice")
    late = session("late", _turns(MIDNIGHT - timedelta(days=3, hours=-5), 5, 99))
    svc.import_conversations(alice, document("alice", [late]))
    _assert_exact(svc)
    old = [s for s in svc.get_user_sessions(alice) if s.title == "alice 2"][0]
    reply = [m for m in svc.get_messages(old.session_id, user=alice) if m.role == "assistant"][0]
    svc.set_feedback(reply.id, user=alice, rating=-1)
    _assert_exact(svc)
    svc.delete_session(old.session_id, user=alice)
    _assert_exact(svc)


def test_sqlite_and_postgresql_give_identical_metrics(tmp_path, sqlite_template, pg_databases):
    import shutil

    path = tmp_path / "pa.db"
    shutil.copy(sqlite_template, path)
    pg_url = pg_databases.migrated()
    results = []
    for url in (f"sqlite:///{path}", pg_url):
        engine = create_db_engine(url)
        try:
            svc = pa_core.ConversationService(engine)
            _seed(svc)
            first = [svc.session_metrics(since=s, until=u) for s, u in RANGES[:3]]
            assert first == [svc.session_metrics(since=s, until=u) for s, u in RANGES[:3]]
            results.append([m._replace(since=None, until=None) for m in first])
        finally:
            engine.dispose()
    pg_databases.drop(pg_url)
    assert results[0] == results[1]


@pytest.fixture
def pg_svc(svc):
    if svc._sqlite:
        pytest.skip("roll-ups are PostgreSQL only")
    return svc


def test_an_open_older_transaction_postpones_the_buckets_it_could_write(pg_svc, engine):
    with engine.connect() as other:
        other.execute(text("SELECT 1"))  # a transaction begun now, still open
        started = other.execute(text("SELECT timezone('UTC', now())")).scalar_one()
        with pg_svc.transaction(everyone=True) as conn:
            limit = rollup_fill.closed_before(conn)
            buckets = rollup_fill.plan(conn, rollup_fill.Owner(None), NOW - timedelta(days=2), None)
        assert limit <= started
        assert all(b + timedelta(hours=s) <= started for s, b in buckets)
        other.rollback()


def test_a_concurrent_fill_of_a_locked_day_reads_it_live(pg_svc, engine):
    _seed(pg_svc)
    day = (MIDNIGHT - timedelta(days=2)).replace(tzinfo=None)
    with engine.connect() as other:
        other.execute(  # an invalidator of that day holds its shared lock
            text("SELECT pg_advisory_xact_lock_shared(:c, :d)"),
            {"c": 7309, "d": (day.date() - datetime(2000, 1, 1).date()).days},
        )
        _assert_exact(pg_svc)
        assert (0, 24, day) not in _buckets(pg_svc)
        other.rollback()
    _assert_exact(pg_svc)
    assert (0, 24, day) in _buckets(pg_svc)


def test_appends_of_today_leave_the_roll_ups_alone(pg_svc):
    _seed(pg_svc)
    _assert_exact(pg_svc)
    filled = _buckets(pg_svc)
    bob = pg_svc.get_user("bob")
    [today] = [s for s in pg_svc.get_user_sessions(bob) if s.title == "today"]
    pg_svc.add_message(today.session_id, user=bob, content="one more")
    assert _buckets(pg_svc) == filled
    _assert_exact(pg_svc)


def test_downgrade_and_upgrade_on_a_populated_database(db_url, svc):
    _seed(svc)
    _assert_exact(svc)
    before = svc.session_metrics(since=RANGES[0][0], until=RANGES[0][1])
    downgrade(db_url, "0008")
    alice = svc.get_user("alice")
    late = session("late", _turns(MIDNIGHT - timedelta(days=2), 3, 7))
    svc.import_conversations(alice, document("alice", [late]))  # no trigger, no roll-up table
    pa_core.migrate(db_url)
    after = svc.session_metrics(since=RANGES[0][0], until=RANGES[0][1])
    assert after.messages == before.messages + 6
    _assert_exact(svc)


def test_a_warm_call_reads_the_roll_ups_and_writes_nothing(pg_svc, engine):
    _seed(pg_svc)
    since, until = RANGES[0]
    with count_statements(engine) as cold:
        pg_svc.session_metrics(since=since, until=until)
    with count_statements(engine) as warm:
        pg_svc.session_metrics(since=since, until=until)
    assert any(s.startswith("INSERT INTO metric_sessions") for s in cold)
    writes = ("INSERT", "UPDATE", "DELETE")
    assert not [s for s in warm if s.lstrip().upper().startswith(writes)]
    # work_mem (the row-security scope travels with it), closed limit, markers, then users,
    # days, percentiles, sessions created, tools, errors
    assert len(warm) == 9
    reads = [s for s in warm if "metric_sessions" in s or "metric_latency" in s]
    assert len(reads) == 3 and all("FROM metric_" in s for s in reads)
