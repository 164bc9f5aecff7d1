"""Row-level security on PostgreSQL, seen through a NON-superuser app role (superusers bypass it).

Each test gets a migrated database and a fresh LOGIN role (NOSUPERUSER, NOBYPASSRLS) granted
what pa_core.app_role lists; the service runs through that role's own connections.
"""

from __future__ import annotations

import ast
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

import pa_core
from pa_core.db import create_db_engine
from pa_core.errors import StorageError
from pa_core.models import utcnow

OWNED_TABLES = ("conversation_sessions", "conversation_messages", "api_tokens")
# Tables kept out of row security on purpose (docs/SECURITY.md): login lookups, the schema.
UNPROTECTED = {"users", "alembic_version", "login_attempts"}


@pytest.fixture
def app_engine(app_db):
    """An engine of the app role; one pooled connection, so every transaction reuses it."""
    engine = create_db_engine(app_db[1], pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


@pytest.fixture
def app_svc(app_engine):
    """The service, running as the app role."""
    return pa_core.ConversationService(app_engine)


def _two_users(svc):
    """alice with 3 messages and a token, bob with 2 messages and a token."""
    alice, bob = svc.ensure_user("alice"), svc.ensure_user("bob")
    for user, n in ((alice, 3), (bob, 2)):
        s = svc.create_session(user=user, title=f"{user.username}'s")
        for i in range(n):
            svc.add_message(s.session_id, user=user, content=f"{user.username} says {i}")
        svc.issue_token(user, name="cli")
    return alice, bob


def _user_ids(conn, table):
    return [row[0] for row in conn.execute(text(f"SELECT user_id FROM {table}"))]


def test_the_app_role_is_not_exempt(app_engine):
    with app_engine.connect() as conn:
        row = conn.execute(
            text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        ).one()
    assert tuple(row) == (False, False)


def test_an_unscoped_select_in_a_users_transaction_sees_only_their_rows(app_svc):
    alice, bob = _two_users(app_svc)
    with app_svc.transaction(user_id=alice.id) as conn:
        messages = conn.execute(text("SELECT * FROM conversation_messages")).mappings().all()
        assert len(messages) == 3 and {m["user_id"] for m in messages} == {alice.id}
        assert all(m["content"].startswith("alice") for m in messages)
        for table in OWNED_TABLES:
            assert set(_user_ids(conn, table)) == {alice.id}, table
    with app_svc.transaction(user_id=bob.id) as conn:
        assert sorted(_user_ids(conn, "conversation_messages")) == [bob.id, bob.id]


def test_without_a_scope_nothing_is_visible(app_svc):
    _two_users(app_svc)
    with app_svc.transaction() as conn:
        for table in OWNED_TABLES:
            assert _user_ids(conn, table) == [], table
        # the users table is outside row security: login looks names up before any scope
        assert conn.execute(text("SELECT count(*) FROM users")).scalar_one() == 2


def test_the_scope_ends_with_its_transaction_on_the_same_connection(app_svc, app_engine):
    alice, _bob = _two_users(app_svc)
    pids = set()
    with app_svc.transaction(user_id=alice.id) as conn:
        pids.add(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
        assert _user_ids(conn, "conversation_messages")
    with app_svc.transaction() as conn:
        pids.add(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
        assert conn.execute(text("SELECT current_setting('pa.user_id', true)")).scalar() == ""
        assert _user_ids(conn, "conversation_messages") == []
    assert len(pids) == 1  # the very connection that carried alice's scope a moment ago


def test_a_write_into_another_users_rows_is_refused(app_svc):
    alice, bob = _two_users(app_svc)
    insert = text(
        "INSERT INTO conversation_sessions (session_id, user_id, is_active, message_count, "
        "created_at, last_activity_at, pinned) VALUES (:sid, :uid, true, 0, now(), now(), false)"
    )
    refused = pytest.raises(StorageError, match="row-level security")
    with refused, app_svc.transaction(write=True, user_id=alice.id) as conn:
        conn.execute(insert, {"sid": str(uuid.uuid4()), "uid": bob.id})
    with app_svc.transaction(write=True, user_id=alice.id) as conn:
        changed = conn.execute(text("UPDATE conversation_messages SET content = 'x'")).rowcount
        removed = conn.execute(text("DELETE FROM api_tokens")).rowcount
    assert (changed, removed) == (3, 1)  # alice's rows only
    [bob_session] = app_svc.get_user_sessions(bob)
    assert [m.content for m in app_svc.get_messages(bob_session.session_id, user=bob)] == [
        "bob says 0",
        "bob says 1",
    ]
    assert len(app_svc.list_tokens(bob)) == 1


def test_every_user_data_table_has_row_security_and_a_policy(app_db):
    engine = create_db_engine(app_db[0])
    try:
        with engine.connect() as conn:
            with_user_id = set(
                conn.execute(
                    text(
                        "SELECT table_name FROM information_schema.columns WHERE "
                        "table_schema = 'public' AND column_name IN ('user_id', 'actor_id')"
                    )
                ).scalars()
            )
            rows = conn.execute(
                text(
                    "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
                    "(SELECT count(*) FROM pg_policies p WHERE p.schemaname = 'public' "
                    "AND p.tablename = c.relname) FROM pg_class c JOIN pg_namespace n "
                    "ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'"
                )
            ).all()
    finally:
        engine.dispose()
    state = {name: (rls, force, policies) for name, rls, force, policies in rows}
    user_data = (set(OWNED_TABLES) | with_user_id | {"audit_log"} & set(state)) - UNPROTECTED
    assert set(OWNED_TABLES) <= user_data
    for table in sorted(user_data):
        rls, force, policies = state[table]
        assert rls and force and policies >= 1, table
    assert not any(state[t][0] for t in UNPROTECTED & set(state))


def test_the_everyone_path_still_works_through_the_app_role(app_svc):
    alice, bob = _two_users(app_svc)
    everyone = app_svc.session_metrics()
    assert everyone.messages == 5 and len(everyone.per_user) == 2
    assert app_svc.session_metrics(user=alice).messages == 3
    token, _record = app_svc.issue_token(bob, name="api")
    assert app_svc.user_for_token(token).id == bob.id  # the token lookup is an everyone path
    backup = "".join(app_svc.backup())
    assert "alice says 2" in backup and "bob says 1" in backup
    assert app_svc.cleanup_old_sessions(older_than_days=30, dry_run=True) == 0
    with app_svc.transaction(write=True, everyone=True) as conn:  # make both sessions old
        conn.execute(
            text("UPDATE conversation_sessions SET last_activity_at = :t"),
            {"t": utcnow() - timedelta(days=60)},
        )
    assert app_svc.cleanup_old_sessions(older_than_days=30, dry_run=True) == 2
    assert app_svc.cleanup_old_sessions(older_than_days=30) == 2
    with app_svc.transaction(everyone=True) as conn:
        assert _user_ids(conn, "conversation_messages") == []  # the cascade removed them too


def test_the_whole_service_works_through_the_app_role(app_db, app_svc):
    pa_core.migrate(app_db[1])  # at head: the app's start-up migration needs no more rights
    alice, bob = _two_users(app_svc)
    s = app_svc.create_session(user=alice, title="Trip")
    app_svc.add_message(s.session_id, user=alice, content="pack the tent", client_id="c-1")
    again = app_svc.add_message(s.session_id, user=alice, content="pack the tent", client_id="c-1")
    assert app_svc.get_message_by_client_id(s.session_id, user=alice, client_id="c-1") == again
    assert [h.session_id for h in app_svc.search_messages(alice, "tent")] == [s.session_id]
    assert app_svc.get_session(s.session_id, user=bob) is None
    app_svc.rename_session(s.session_id, user=alice, title="Camping")
    app_svc.set_session_pinned(s.session_id, user=alice)
    reply = app_svc.add_message(s.session_id, user=alice, role="assistant", content="done")
    assert app_svc.set_feedback(reply.id, user=alice, rating=1).feedback == 1
    assert "pack the tent" in "".join(app_svc.export_csv(alice, [s.session_id]))
    assert "pack the tent" in "".join(app_svc.export_json(alice))
    assert "Camping" in app_svc.export_markdown(alice, s.session_id)
    app_svc.delete_session(s.session_id, user=alice)
    assert app_svc.count_messages(alice) == 3
    restored = app_svc.restore_session(s.session_id, user=alice)
    assert restored.session_id == s.session_id


def test_every_transaction_names_whom_it_acts_for():
    """Each `self.transaction(...)` in pa_core passes user_id= or everyone=True: a transaction
    without a scope sees no row of a protected table under the app role (only the health
    check's `SELECT 1` needs none)."""
    root = Path(pa_core.__file__).parent
    unscoped = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)):
                continue
            for call in ast.walk(node):
                if (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Attribute)
                    and call.func.attr == "transaction"
                    and not {k.arg for k in call.keywords} & {"user_id", "everyone"}
                    and node.name != "ping"
                ):
                    unscoped.append(f"{path.relative_to(root)}:{call.lineno} {node.name}()")
    assert unscoped == []


# The stored vector (migration 0008) is matched by ts_match_vq alone: no to_tsvector per row.
FTS_FUNCTIONS = ("pg_catalog.ts_match_vq(tsvector, tsquery)",)


def _search_plan(app_svc, admin_url, uid) -> str:
    """EXPLAIN of search's fallback step (the one it picks), as the app role in uid's scope."""
    from pa_core.service.search import pg_fallback

    params = {"uid": uid, "q": "needle", "lim": 20, "headline": "MaxWords=24"}
    with app_svc.transaction(user_id=uid) as conn:
        statement = pg_fallback(conn)
        rows = conn.execute(text("EXPLAIN " + statement.text), params).scalars()
        return "\n".join(rows)


def test_search_through_the_app_role_and_when_its_index_is_used(app_db, app_svc):
    admin_url, _app_url = app_db
    alice, bob = _two_users(app_svc)
    sessions = {u.id: app_svc.create_session(user=u).session_id for u in (alice, bob)}
    for user in (alice, bob):
        app_svc.add_message(sessions[user.id], user=user, content=f"a needle for {user.username}")
    admin = create_db_engine(admin_url)
    try:
        with admin.begin() as conn:  # alice: a small share of many rows (an index pays)
            conn.execute(
                text(
                    "INSERT INTO conversation_messages (session_id, user_id, role, content, "
                    "has_error, created_at) SELECT :sid, :uid, 'user', 'hay ' || md5(g::text), "
                    "false, now() - g * interval '1 second' FROM generate_series(1, :n) g"
                ),
                [
                    {"sid": sessions[u.id], "uid": u.id, "n": n}
                    for u, n in ((alice, 500), (bob, 20000))
                ],
            )
            conn.execute(text("ANALYZE conversation_messages"))
        hits = app_svc.search_messages(alice, "needle")
        assert [h.session_id for h in hits] == [sessions[alice.id]]
        # Row security evaluates its policy before any function not marked LEAKPROOF, so the
        # GIN index cannot serve the match: the user's own rows are matched one by one (through
        # the user_id index, never a scan of everyone's rows).
        plan = _search_plan(app_svc, admin_url, alice.id)
        assert "ix_messages_content_tsv" not in plan and "ix_messages_user_created" in plan
        with admin.begin() as conn:  # the optional step docs/SECURITY.md describes (superuser)
            for function in FTS_FUNCTIONS:
                conn.execute(text(f"ALTER FUNCTION {function} LEAKPROOF"))
        assert "ix_messages_content_tsv" in _search_plan(app_svc, admin_url, alice.id)
        assert [h.session_id for h in app_svc.search_messages(alice, "needle")] == [
            sessions[alice.id]
        ]
    finally:
        admin.dispose()


def test_ids_taken_by_hidden_rows_of_another_user_through_the_app_role(app_svc):
    """Another user's session id is invisible in the user's scope, yet still taken (unique
    constraints see every row): import picks another id, restore says SessionNotFound."""
    from pa_core.errors import SessionNotFound
    from support.chatgpt_export import fixture_bytes

    alice, bob = _two_users(app_svc)
    assert app_svc.import_conversations(alice, fixture_bytes()).sessions_imported == 2
    report = app_svc.import_conversations(bob, fixture_bytes())
    assert report.sessions_imported == 2  # bob's own copies under other ids
    again = app_svc.import_conversations(bob, fixture_bytes())
    assert (again.sessions_imported, again.sessions_skipped) == (0, 3)  # found as his own
    alice_ids = {s.session_id for s in app_svc.get_user_sessions(alice)}
    bob_ids = {s.session_id for s in app_svc.get_user_sessions(bob)}
    assert len(alice_ids) == len(bob_ids) == 3 and not alice_ids & bob_ids
    taken = next(iter(alice_ids))
    with pytest.raises(SessionNotFound):
        app_svc.restore_session(taken, user=bob)
    assert app_svc.restore_session(taken, user=alice).session_id == taken
