"""The metric roll-ups under row-level security, through a NON-superuser app role (PostgreSQL).

The everyone path fills and reads everyone's; a user's transaction sees and writes only its own
per-user roll-ups, yet its changes to old messages still invalidate everyone's (those markers
hold no user data and are outside row security).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from test_core_metrics_rollup import MIDNIGHT, RANGES, _assert_exact, _seed

import pa_core
from pa_core.db import create_db_engine
from pa_core.errors import StorageError

DETAIL_TABLES = ("metric_sessions", "metric_latency", "metric_errors", "metric_tools")


@pytest.fixture
def app_svc(app_db):
    """The service on a migrated database, running as a fresh NOSUPERUSER NOBYPASSRLS role."""
    engine = create_db_engine(app_db[1])
    yield pa_core.ConversationService(engine)
    engine.dispose()


def _counts(conn, where: str = "true") -> dict[str, int]:
    return {
        t: conn.execute(text(f"SELECT count(*) FROM {t} WHERE {where}")).scalar_one()
        for t in DETAIL_TABLES
    }


def test_roll_ups_are_everyone_only_and_still_invalidated_by_a_user(app_svc):
    _seed(app_svc)
    _assert_exact(app_svc)
    alice = app_svc.get_user("alice")
    with app_svc.transaction(everyone=True) as conn:
        assert all(_counts(conn).values())  # filled by the everyone path, as the app role
        marked = conn.execute(text("SELECT count(*) FROM metric_buckets")).scalar_one()
        mu = conn.execute(text("SELECT count(*) FROM metric_user_buckets")).scalar_one()
        assert all(_counts(conn, f"owner = {alice.id}").values())  # and her own
        users = conn.execute(text("SELECT DISTINCT user_id FROM metric_user_buckets")).all()
        assert len(users) == 2
    with app_svc.transaction(user_id=alice.id) as conn:
        assert _counts(conn, f"owner <> {alice.id}") == dict.fromkeys(DETAIL_TABLES, 0)
        assert all(_counts(conn).values())
        mine = conn.execute(text("SELECT DISTINCT user_id FROM metric_user_buckets")).all()
        assert [tuple(r) for r in mine] == [(alice.id,)]
    insert = text(
        "INSERT INTO metric_tools (owner, span_hours, bucket, tool, n) VALUES (0, 24, :b, 'x', 1)"
    )
    refused = pytest.raises(StorageError, match="row-level security")
    with refused, app_svc.transaction(write=True, user_id=alice.id) as conn:
        conn.execute(insert, {"b": (MIDNIGHT - timedelta(days=40)).replace(tzinfo=None)})
    old = [s for s in app_svc.get_user_sessions(alice) if s.title == "alice 3"][0]
    app_svc.delete_session(old.session_id, user=alice)  # a user's transaction, old messages
    with app_svc.transaction(everyone=True) as conn:
        assert conn.execute(text("SELECT count(*) FROM metric_buckets")).scalar_one() < marked
        assert conn.execute(text("SELECT count(*) FROM metric_user_buckets")).scalar_one() < mu
    _assert_exact(app_svc)
    assert app_svc.session_metrics(since=RANGES[0][0]).messages == 2 * 6 * 60 + 12 - 60
