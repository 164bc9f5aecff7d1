"""Row-level security through PgBouncer in transaction mode, as a NON-superuser app role.

PgBouncer hands one server connection to many clients, one transaction at a time. The scope
(`set_config(..., true)`) lives exactly as long as its transaction, so the next client on the
same server connection starts with no scope and sees nothing until it sets its own.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from topology import Topology, direct_url, fresh_database

import pa_core
from pa_core.app_role import grant_statements
from pa_core.db import create_db_engine
from support.pg_cluster import admin_exec

pytestmark = [pytest.mark.deploy, pytest.mark.slow]


@pytest.fixture(scope="module")
def pooled_app_url(pg_server_url, binaries, tmp_path_factory):
    """A migrated database reached through PgBouncer as a fresh NOBYPASSRLS app role."""
    role = f"pa_app_{uuid.uuid4().hex[:10]}"
    name = fresh_database(pg_server_url)
    pa_core.migrate(direct_url(pg_server_url, name))  # the owner migrates, the app role uses
    admin_exec(pg_server_url, f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS")
    admin_exec(direct_url(pg_server_url, name), *grant_statements(role))
    topo = Topology(pg_server_url, tmp_path_factory.mktemp("rls") / "auth.yaml")
    try:
        topo.start_pgbouncer(users=(role,))
        yield make_url(topo.pooled_url(name)).set(username=role).render_as_string(False)
    finally:
        topo.stop()
        topo.cleanup()
        admin_exec(pg_server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin_exec(pg_server_url, f"DROP ROLE IF EXISTS {role}")


def _backend_and_rows(svc, **scope):
    """(server backend pid, user_ids of every message) in one transaction of this scope."""
    with svc.transaction(**scope) as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        rows = conn.execute(text("SELECT user_id FROM conversation_messages")).scalars().all()
    return pid, sorted(rows)


def test_scopes_never_cross_clients_sharing_a_pgbouncer_server_connection(pooled_app_url):
    pa_core.migrate(pooled_app_url)  # the app's start-up migration works through the pooler
    # Two app "replicas": one client connection each to PgBouncer.
    engines = [create_db_engine(pooled_app_url, pool_size=1, max_overflow=0) for _ in range(2)]
    try:
        one, two = (pa_core.ConversationService(e) for e in engines)
        alice, bob = one.ensure_user("alice"), two.ensure_user("bob")
        for svc, user, n in ((one, alice, 3), (two, bob, 2)):
            s = svc.create_session(user=user)
            for i in range(n):
                svc.add_message(s.session_id, user=user, content=f"{user.username} {i}")
        shared = 0
        for _round in range(20):
            pid_a, rows_a = _backend_and_rows(one, user_id=alice.id)
            pid_none, rows_none = _backend_and_rows(two)
            pid_b, rows_b = _backend_and_rows(two, user_id=bob.id)
            assert rows_a == [alice.id] * 3
            assert rows_none == []  # right after alice's transaction, maybe on her connection
            assert rows_b == [bob.id] * 2
            shared += pid_a == pid_none or pid_none == pid_b
        assert shared > 0  # the clients really did share PgBouncer's server connections
        assert one.session_metrics().messages == 5  # the everyone path, through the pooler
        assert [h.snippet for h in two.search_messages(bob, "bob")]
        assert not two.search_messages(bob, "alice")
    finally:
        for engine in engines:
            engine.dispose()
