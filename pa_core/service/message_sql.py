"""PostgreSQL statements of the message hot paths, written once, rendered for two callers.

`bound(...)` gives a SQLAlchemy text() with typed binds (tests and reference benchmarks run it
as a statement); `driver(...)` gives the same SQL with driver parameters, for
`messages.driver_fetch` (the connection's own cursor: no statement compilation, cache lookup,
execution context or per-value type processing). Driver parameters: JSON values are passed as
JSON text and cast in SQL, datetimes as aware datetimes.
"""

from __future__ import annotations

import re

from sqlalchemy import Boolean, Integer, TextClause, bindparam, text
from sqlalchemy.dialects.postgresql import JSONB

from pa_core.models import UTCDateTime

# The session row locked by the UPDATE orders the writers of a session: each message's created_at
# is GREATEST(now, the session's last activity), so created_at never goes backwards against id.
_BUMP = """
    UPDATE conversation_sessions
       SET last_activity_at = GREATEST(:created_at, last_activity_at),
           message_count = message_count + 1
     WHERE session_id = :session_id AND user_id = :user_id{guard}
 RETURNING session_id, last_activity_at
"""
_INSERT = """
    INSERT INTO conversation_messages (session_id, user_id, role, content, tools_used,
        processing_time_ms, token_count, has_error, error_message, message_metadata,
        created_at{cid})
    SELECT s.session_id, :user_id, :role, :content, :tools_used, :processing_time_ms,
           :token_count, :has_error, :error_message, :message_metadata, s.last_activity_at{cid_v}
      FROM s
"""
# With a client_id: the bump is skipped when the client id is already stored, and the insert
# does nothing on a conflict. A writer that raced another with the same client id bumped the
# session but inserted nothing (`bumped` without an id): its transaction is rolled back.
_GUARD = """
       AND NOT EXISTS (SELECT 1 FROM conversation_messages m
                        WHERE m.session_id = :session_id AND m.client_id = :client_id)"""
ADD = (
    f"WITH s AS ({_BUMP.format(guard='')}) "
    f"{_INSERT.format(cid='', cid_v='')} RETURNING id, created_at"
)
ADD_ONCE = (
    f"WITH s AS ({_BUMP.format(guard=_GUARD)}), "
    f"ins AS ({_INSERT.format(cid=', client_id', cid_v=', :client_id')}"
    " ON CONFLICT (session_id, client_id) DO NOTHING RETURNING id, created_at) "
    "SELECT (SELECT id FROM ins) AS id, (SELECT created_at FROM ins) AS created_at, "
    "EXISTS (SELECT 1 FROM s) AS bumped"
)

# Message pages. The owner check is the denormalised messages.user_id, tested as `IS TRUE` so it
# stays a filter on the rows the (session_id, id) index returns (as an index condition it made
# PostgreSQL AND two bitmaps and sort the whole session). The session row is not read: under a
# long-open transaction every append leaves a dead version of it that a lookup has to step over.
# session_id is bounded as a range, not `=`, on purpose: with `=` PostgreSQL sees session_id as
# a constant, finds the primary key "already ordered" and may walk it filtering the whole table;
# the range keeps (session_id, id) the only ordered path, with or without statistics.
_READ = (
    "SELECT id, session_id, user_id, role, content, tools_used::text, processing_time_ms,"
    " token_count, has_error, error_message, message_metadata::text, created_at, client_id,"
    " feedback, feedback_comment FROM conversation_messages"
    " WHERE session_id >= :sid AND session_id <= :sid AND (user_id = :uid) IS TRUE{before}"
)
_BEFORE = " AND id < :before"
PAGE = {
    (False, before): _READ.format(before=_BEFORE if before else "") + " ORDER BY session_id, id"
    for before in (False, True)
} | {
    (True, before): _READ.format(before=_BEFORE if before else "")
    + " ORDER BY session_id DESC, id DESC LIMIT :lim"
    for before in (False, True)
}

_JSON = ("tools_used", "message_metadata")
_NAMED = re.compile(r"(?<![:\w]):(\w+)")


def driver(sql: str) -> str:
    """The statement for the driver cursor (psycopg2 `%(name)s` parameters, JSON cast in SQL)."""
    sql = sql.replace("%", "%%")
    for name in _JSON:
        sql = sql.replace(f":{name},", f":{name}::jsonb,")
    return _NAMED.sub(r"%(\1)s", sql)


def bound(sql: str, **columns: type) -> TextClause:
    """The statement as a SQLAlchemy text() with the JSON and timestamp binds typed."""
    return (
        text(sql)
        .bindparams(
            bindparam("tools_used", type_=JSONB(none_as_null=True)),
            bindparam("message_metadata", type_=JSONB(none_as_null=True)),
            bindparam("created_at", type_=UTCDateTime()),
        )
        .columns(**columns)
    )


PG_ADD_MESSAGE = bound(ADD, id=Integer(), created_at=UTCDateTime())
PG_ADD_MESSAGE_ONCE = bound(ADD_ONCE, id=Integer(), created_at=UTCDateTime(), bumped=Boolean())
DRIVER_ADD = driver(ADD)
DRIVER_ADD_ONCE = driver(ADD_ONCE)
DRIVER_PAGE = {shape: driver(sql) for shape, sql in PAGE.items()}
