"""The row-level security scope of one PostgreSQL transaction (docs/SECURITY.md).

The policies of migration 0006 let the app's role see a row only when its `user_id` is the
transaction's `pa.user_id`, or when `pa.scope` is `everyone`. Both settings are set with
`set_config(..., true)`, i.e. transaction-local: they end with the transaction, so a pooled
connection (PgBouncer in transaction mode) never carries one user's scope into another's.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

EVERYONE = "everyone"
USER = "user"
_SET_SCOPE = text(
    "SELECT set_config('pa.user_id', :uid, true), set_config('pa.scope', :scope, true)"
)


def set_scope(conn: Connection, *, sqlite: bool, user_id: int | None, everyone: bool) -> None:
    """One statement right after BEGIN on PostgreSQL: the user acted for, or everyone.

    SQLite has no row-level security (only the service's own checks); a transaction without
    a scope (the health check) sends nothing, and sees no row of a protected table.
    """
    if sqlite or (user_id is None and not everyone):
        return
    uid = "" if user_id is None else str(int(user_id))
    conn.execute(_SET_SCOPE, {"uid": uid, "scope": EVERYONE if everyone else USER})
