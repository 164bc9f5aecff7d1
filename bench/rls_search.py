"""What row-level security costs full-text search (docs/SECURITY.md), on a throwaway database.

    python -m bench.rls_search [--admin-url URL] [--messages N]

Two users with N messages each and one rare word; EXPLAIN ANALYZE of search's full-text step
(the statement search picks, with its settings) as the superuser, as a NOBYPASSRLS app role, and
as that role once ts_match_vq is LEAKPROOF in that database. Prints the median of 5 execution
times and whether the GIN index was used.
"""

from __future__ import annotations

import argparse
import re
import statistics
import uuid

from sqlalchemy import text
from sqlalchemy.engine import make_url

import pa_core
from pa_core.app_role import grant_statements
from pa_core.db import create_db_engine
from pa_core.schema_extras import PG_FTS_INDEX
from pa_core.service.row_scope import set_scope
from pa_core.service.search import pg_fallback

# The stored vector (migration 0008) is matched by ts_match_vq alone (no to_tsvector per row).
LEAKPROOF = ("ALTER FUNCTION pg_catalog.ts_match_vq(tsvector, tsquery) LEAKPROOF",)
_FILL = text(
    "INSERT INTO conversation_sessions (session_id, user_id, is_active, message_count, "
    "created_at, last_activity_at, pinned) VALUES (:sid, :uid, true, 0, now(), now(), false); "
    "INSERT INTO conversation_messages (session_id, user_id, role, content, has_error, "
    "created_at) SELECT :sid, :uid, 'user', 'word' || g || ' about things ' || md5(g::text), "
    "false, now() - g * interval '1 second' FROM generate_series(1, :n) g"
)


def _admin(url: str, *statements: str) -> None:
    engine = create_db_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()


def _explain(url: str, uid: int, runs: int = 5) -> tuple[float, bool]:
    """(median execution ms of `runs`, GIN index used) of the full-text step for `uid`."""
    engine = create_db_engine(url)
    times, used = [], False
    try:
        for _ in range(runs):
            with engine.begin() as conn:
                set_scope(conn, sqlite=False, user_id=uid, everyone=False)
                params = {"uid": uid, "q": "word777", "lim": 20, "headline": "MaxWords=24"}
                statement = pg_fallback(conn)
                rows = conn.execute(text("EXPLAIN ANALYZE " + statement.text), params)
                plan = "\n".join(rows.scalars())
            times.append(float(re.search(r"Execution Time: ([\d.]+) ms", plan).group(1)))
            used = PG_FTS_INDEX in plan
    finally:
        engine.dispose()
    return statistics.median(times), used


def main() -> None:
    """Create, measure, drop."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--admin-url", default="postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
    )
    parser.add_argument("--messages", type=int, default=50_000)
    args = parser.parse_args()
    name, role = f"pa_rls_{uuid.uuid4().hex[:8]}", f"pa_app_{uuid.uuid4().hex[:8]}"
    admin = make_url(args.admin_url)
    url = admin.set(database=name).render_as_string(hide_password=False)
    app_url = admin.set(database=name, username=role, password=None).render_as_string(False)
    _admin(args.admin_url, f'CREATE DATABASE "{name}"', f"CREATE ROLE {role} LOGIN NOBYPASSRLS")
    try:
        pa_core.migrate(url)
        _admin(url, *grant_statements(role))
        svc = pa_core.ConversationService(create_db_engine(url))
        users = [svc.ensure_user(n) for n in ("a", "b")]
        with svc.engine.begin() as conn:
            for user in users:
                conn.execute(_FILL, {"sid": str(uuid.uuid4()), "uid": user.id, "n": args.messages})
            conn.execute(text("ANALYZE"))
        svc.engine.dispose()
        uid = users[0].id
        for label, target in (("superuser", url), ("app role", app_url)):
            print(f"{label:28s} %.1f ms, GIN used: %s" % _explain(target, uid))
        _admin(url, *LEAKPROOF)
        print(f"{'app role, LEAKPROOF fts':28s} %.1f ms, GIN used: %s" % _explain(app_url, uid))
    finally:
        _admin(
            args.admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f"DROP ROLE {role}"
        )


if __name__ == "__main__":
    main()
