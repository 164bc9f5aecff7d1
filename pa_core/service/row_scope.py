"""The row-level security scope of one PostgreSQL transaction (docs/SECURITY.md).

The policies of migration 0006 let the app's role see a row only when its `user_id` is the
transaction's `pa.user_id`, or when `pa.scope` is `everyone`. Both settings are set with
`set_config(..., true)`, i.e. transaction-local: they end with the transaction, so a pooled
connection (PgBouncer in transaction mode) never carries one user's scope into another's.

The scope travels with the transaction's first statement (one round trip, not two): set_scope
only notes it, and an engine hook puts it in front of the next statement sent.
"""

from __future__ import annotations

import weakref

from sqlalchemy import Connection, Engine, event

EVERYONE = "everyone"
USER = "user"
_PENDING = "pa_scope_pending"
# Hot reads walk one index in its order and stop after a page. Without statistics (a table
# never analysed) PostgreSQL may instead gather every row of the session or user with a bitmap
# and sort them all; these transaction-local settings leave it only the ordered index path.
_ORDERED = ", set_config('enable_sort', 'off', true), set_config('enable_bitmapscan', 'off', true)"
_hooked: weakref.WeakSet[Engine] = weakref.WeakSet()


def scope_statement(*, user_id: int | None, everyone: bool, ordered: bool = False) -> str:
    """The SELECT that sets the scope (values are an integer and a fixed word: no binding)."""
    uid = "" if user_id is None else str(int(user_id))
    scope = EVERYONE if everyone else USER
    ordered_sql = _ORDERED if ordered else ""
    return (
        f"SELECT set_config('pa.user_id', '{uid}', true), "
        f"set_config('pa.scope', '{scope}', true){ordered_sql}"
    )


def set_scope(
    conn: Connection, *, sqlite: bool, user_id: int | None, everyone: bool, ordered: bool = False
) -> None:
    """Scope the transaction just begun on PostgreSQL to a user, or to everyone.

    SQLite has no row-level security (only the service's own checks); a transaction without
    a scope (the health check) sends nothing, and sees no row of a protected table.
    `ordered`: the transaction reads pages along an index (see _ORDERED).
    """
    if sqlite or (user_id is None and not everyone):
        return
    install(conn.engine)
    conn.info[_PENDING] = scope_statement(user_id=user_id, everyone=everyone, ordered=ordered)


def install(engine: Engine) -> None:
    """Hook the engine (its root, so option engines share it) once: scopes ride on statements."""
    root = getattr(engine, "_proxied", engine)
    if root not in _hooked:
        event.listen(root, "before_cursor_execute", _send_with_statement, retval=True)
        _hooked.add(root)


def take_scope(conn: Connection) -> str | None:
    """The scope statement not sent yet (now the caller's to send), or None."""
    return conn.info.pop(_PENDING, None)


def flush_scope(conn: Connection) -> None:
    """Send a pending scope now: before the driver connection is used directly (COPY)."""
    statement = take_scope(conn)
    if statement is not None:
        conn.exec_driver_sql(statement)


def _send_with_statement(conn, cursor, statement, parameters, _context, executemany):
    """Put a pending scope in front of the statement (its own call for batches and named
    cursors, which take one statement only)."""
    scope = take_scope(conn)
    if scope is None:
        return statement, parameters
    if executemany or getattr(cursor, "name", None):
        with conn.connection.dbapi_connection.cursor() as cur:
            cur.execute(scope)
        return statement, parameters
    return f"{scope}; {statement}", parameters
