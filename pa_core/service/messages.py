"""Message rows: the hot paths (append, history pages), shaped for round trips."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    Select,
    bindparam,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError

from pa_core.models import UTC, UTCDateTime, utcnow
from pa_core.records import MessageRecord
from pa_core.service import message_sql
from pa_core.service.sessions import owns
from pa_core.service.tables import MESSAGE_READ_COLUMNS, MESSAGES, SESSIONS
from pa_core.validation import (
    check_client_id,
    check_content,
    check_error_message,
    check_json,
    check_message_role,
    check_optional_int,
    check_tools,
    session_id_or_raise,
)


class RacedDuplicate(Exception):
    """Another writer stored the same client id first; roll back and return the stored one."""


def message_params(
    session_id: Any,
    *,
    user_id: int,
    role: str,
    content: str,
    tools_used: list[str] | None,
    processing_time_ms: int | None,
    token_count: int | None,
    has_error: bool,
    error_message: str | None,
    metadata: dict | None,
    client_id: str | None = None,
) -> dict[str, Any]:
    """The checked column values of a new message (SessionNotFound for a non-UUID session id)."""
    return {
        "session_id": session_id_or_raise(session_id),
        "user_id": user_id,
        "role": check_message_role(role),
        "content": check_content(content),
        "tools_used": check_tools(tools_used),
        "processing_time_ms": check_optional_int("processing_time_ms", processing_time_ms),
        "token_count": check_optional_int("token_count", token_count),
        "has_error": bool(has_error),
        "error_message": check_error_message(error_message),
        "message_metadata": check_json("metadata", metadata),
        "created_at": utcnow(),
        "client_id": check_client_id(client_id),
    }


def store_message(conn: Connection, params: dict, *, sqlite: bool) -> MessageRecord | None:
    """Insert a message and bump its session (a stored client id: the stored message, nothing
    written); None when the session is not the user's. RacedDuplicate: roll back and look again.
    """
    if sqlite:
        return _store_sqlite(conn, params)
    values = _driver_values(params)
    if params["client_id"] is None:
        row = driver_row(conn, message_sql.DRIVER_ADD, values)
        return None if row is None else _record(params, row)
    new_id, created_at, bumped = driver_row(conn, message_sql.DRIVER_ADD_ONCE, values)
    if new_id is not None:
        return _record(params, (new_id, created_at))
    if bumped:
        raise RacedDuplicate(params["client_id"])
    return find_by_client_id(conn, params)


def driver_row(conn: Connection, sql: str, values: dict) -> tuple | None:
    """The first row of one statement sent on the connection's own driver cursor."""
    return driver_fetch(conn, sql, values, lambda cursor: cursor.fetchone())


def driver_fetch(conn: Connection, sql: str, values: dict, fetch: Callable[[Any], Any]) -> Any:
    """`fetch(cursor)` after one statement sent on the connection's own driver cursor.

    The hot statements are fixed SQL (message_sql): SQLAlchemy's execution context and result
    object were most of their Python cost. Listeners still see the statement (and put the
    row-security scope in front of it); driver errors come out as SQLAlchemy's DBAPIError, and a
    lost connection is invalidated, as on the ORM path.
    """
    cursor = conn.connection.driver_connection.cursor()
    statement = sql
    for listener in conn.dispatch.before_cursor_execute:
        statement, values = listener(conn, cursor, statement, values, None, False)
    try:
        cursor.execute(statement, values)
        return fetch(cursor)
    except conn.dialect.loaded_dbapi.Error as exc:
        gone = conn.dialect.is_disconnect(exc, conn.connection.dbapi_connection, cursor)
        if gone:
            conn.invalidate(exc)
        raise DBAPIError.instance(
            statement, values, exc, conn.dialect.loaded_dbapi.Error,
            connection_invalidated=gone, dialect=conn.dialect,
        ) from exc  # fmt: skip
    finally:
        cursor.close()


def find_by_client_id(conn: Connection, params: dict) -> MessageRecord | None:
    """The user's stored message of this session with this client id, or None."""
    row = conn.execute(
        select(*MESSAGE_READ_COLUMNS).where(
            MESSAGES.c.session_id == params["session_id"],
            MESSAGES.c.client_id == params["client_id"],
            MESSAGES.c.user_id == params["user_id"],
        )
    ).first()
    return None if row is None else message_from_row(row)


def _store_sqlite(conn: Connection, params: dict) -> MessageRecord | None:
    """The SQLite write (inside BEGIN IMMEDIATE, so writers are already serialised)."""
    if params["client_id"] is not None:
        existing = find_by_client_id(conn, params)
        if existing is not None:
            return existing
    created_at = bindparam("created_at", params["created_at"], type_=UTCDateTime())
    bumped = conn.execute(
        update(SESSIONS)
        .where(
            SESSIONS.c.session_id == params["session_id"],
            SESSIONS.c.user_id == params["user_id"],
        )
        .values(
            last_activity_at=func.max(created_at, SESSIONS.c.last_activity_at),
            message_count=SESSIONS.c.message_count + 1,
        )
        .returning(SESSIONS.c.last_activity_at)
    ).first()
    if bumped is None:
        return None
    values = {**params, "created_at": bumped[0]}
    new_id = conn.execute(insert(MESSAGES).values(**values).returning(MESSAGES.c.id)).scalar_one()
    return MessageRecord(id=new_id, **values)


def _driver_values(params: dict) -> dict:
    """The parameters for the driver statements: JSON values as JSON text."""
    return {
        **params,
        "tools_used": _json_param(params["tools_used"]),
        "message_metadata": _json_param(params["message_metadata"]),
    }


def _json_param(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


def _record(params: dict, row: Any) -> MessageRecord:
    """The record of a message just inserted (id and created_at as the database set them)."""
    return MessageRecord(**{**params, "id": row[0], "created_at": row[1].astimezone(UTC)})


def read_messages(
    conn: Connection,
    sid: str,
    *,
    user_id: int,
    limit: int | None,
    before_id: int | None,
    sqlite: bool,
) -> list[MessageRecord] | None:
    """The last `limit` messages (all when None) before `before_id`, oldest first; None when
    the session is not the user's (only an empty page needs that second look)."""
    shape = (limit is not None, before_id is not None)
    params = {"sid": sid, "uid": user_id, "lim": limit, "before": before_id}
    if sqlite:
        records = list(map(message_from_row, conn.execute(_MESSAGE_PAGE_QUERIES[shape], params)))
    else:
        records = _driver_page(conn, message_sql.DRIVER_PAGE[shape], params)
    if not records and not owns(conn, sid, user_id=user_id):
        return None
    if limit is not None:
        records.reverse()
    return records


def _driver_page(conn: Connection, sql: str, params: dict) -> list[MessageRecord]:
    """Rows of a PostgreSQL page statement, straight from the driver's cursor."""
    return driver_fetch(conn, sql, params, lambda cur: [_pg_message(r) for r in cur.fetchall()])


def _pg_message(r: tuple) -> MessageRecord:
    """A MessageRecord from a driver row of message_sql.PAGE (timestamps as UTC)."""
    return MessageRecord(
        r[0], r[1], r[2], r[3], r[4], _json_text(r[5]), r[6], r[7], r[8], r[9],
        _json_text(r[10]), r[11].astimezone(UTC), r[12], r[13], r[14],
    )  # fmt: skip


def count_messages(conn: Connection, *, user_id: int, session_ids: list[str] | None) -> int:
    """How many of the user's messages are in these sessions (all when None)."""
    query = select(func.count()).select_from(MESSAGES).where(MESSAGES.c.user_id == user_id)
    if session_ids is not None:
        query = query.where(MESSAGES.c.session_id.in_(session_ids))
    return conn.execute(query).scalar_one()


def message_from_row(r: Any) -> MessageRecord:
    """A MessageRecord from a row of MESSAGE_READ_COLUMNS."""
    return MessageRecord(
        r[0], r[1], r[2], r[3], r[4], _json_text(r[5]), r[6], r[7], r[8], r[9],
        _json_text(r[10]), r[11], r[12], r[13], r[14],
    )  # fmt: skip


def _json_text(value: str | None) -> Any:
    """Parse a JSON column read as text; the common empty values skip the parser."""
    if value is None:
        return None
    if value == "[]":
        return []
    return json.loads(value)


def _message_page_query(*, limited: bool, before: bool) -> Select:
    """The get_messages statement, built once per shape (construction was a third of its cost).

    One statement: the ownership check is an uncorrelated EXISTS on the session row (the planner
    runs it once, as a one-time filter) and the messages come from the (session_id, id) index.
    (Filtering on the denormalised messages.user_id instead made PostgreSQL AND two bitmaps and
    sort the whole session.) Only an empty page needs a second look.
    """
    sid = bindparam("sid", type_=MESSAGES.c.session_id.type)
    owned = (
        select(SESSIONS.c.id)
        .where(SESSIONS.c.session_id == sid, SESSIONS.c.user_id == bindparam("uid"))
        .exists()
    )
    query = select(*MESSAGE_READ_COLUMNS)
    if not limited:
        query = query.where(MESSAGES.c.session_id == sid, owned).order_by(MESSAGES.c.id)
    else:
        # The last `lim` rows: a backward range scan of (session_id, id) that stops after `lim`
        # rows. session_id is bounded as a range, not `=`, on purpose: with `=` PostgreSQL sees
        # session_id as a constant, finds the primary key "already ordered" and may walk it
        # backwards filtering the whole table (100 ms at 250k messages for an old session); the
        # range keeps (session_id, id) the only ordered path.
        query = (
            query.where(MESSAGES.c.session_id >= sid, MESSAGES.c.session_id <= sid, owned)
            .order_by(MESSAGES.c.session_id.desc(), MESSAGES.c.id.desc())
            .limit(bindparam("lim", type_=Integer()))
        )
    if before:
        query = query.where(MESSAGES.c.id < bindparam("before", type_=MESSAGES.c.id.type))
    return query


_MESSAGE_PAGE_QUERIES = {
    (limited, before): _message_page_query(limited=limited, before=before)
    for limited in (False, True)
    for before in (False, True)
}


def all_messages(conn: Connection, sid: str, *, user_id: int, sqlite: bool) -> list[MessageRecord]:
    """Every message of the user's session, oldest first (empty when it is not theirs)."""
    params = {"sid": sid, "uid": user_id}
    if not sqlite:
        return _driver_page(conn, message_sql.DRIVER_PAGE[(False, False)], params)
    return list(map(message_from_row, conn.execute(_MESSAGE_PAGE_QUERIES[(False, False)], params)))
