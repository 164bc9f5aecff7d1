"""The lossless JSON export: reading sessions and messages in keyset batches, and encoding them.

Document: {"format": "personal-assistant-export", "version": 1, "exported_at", "username",
"sessions": [{session fields..., "messages": [{message fields...}]}]}. Sessions come in the
order they were stored, messages in insertion order. JSON column values are written with
sorted keys, so the same data gives the same bytes from SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select

from pa_core.service.imports import MESSAGE_FIELDS
from pa_core.service.tables import MESSAGES as M
from pa_core.service.tables import SESSIONS as S

FORMAT = "personal-assistant-export"
VERSION = 1
SESSION_BATCH = 100
MESSAGE_BATCH = 1000
MESSAGES_PER_CHUNK = 200
SESSION_FIELDS = (
    "session_id",
    "title",
    "description",
    "context_data",
    "session_metadata",
    "is_active",
    "pinned",
    "created_at",
    "last_activity_at",
)
JSON_COLUMNS = {"context_data", "session_metadata", "tools_used", "message_metadata"}
TIME_COLUMNS = {"created_at", "last_activity_at", "exported_at"}
_SESSION_COLUMNS = [S.c.id, *(S.c[f] for f in SESSION_FIELDS)]
_MESSAGE_COLUMNS = [M.c.id, *(M.c[f] for f in MESSAGE_FIELDS)]
_PLAIN = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode
_SORTED = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(", ", ": ")).encode


def dumps(value: Any) -> str:
    """Compact JSON text, non-ASCII kept."""
    return _PLAIN(value)


def _time(value: datetime | None) -> str:
    """A timestamp as an ISO 8601 JSON string with offset."""
    return "null" if value is None else '"' + value.isoformat() + '"'


def _encoder(name: str) -> Callable[[Any], str]:
    """How a column's value is written: JSON columns key-sorted, timestamps ISO 8601."""
    if name in JSON_COLUMNS:
        return _SORTED
    return _time if name in TIME_COLUMNS else _PLAIN


def _object_writer(fields: tuple[str, ...]) -> Callable[[Any], str]:
    """A function writing row[1:] (the fields in order) as one JSON object's members."""
    members = [(_PLAIN(f) + ": ", _encoder(f)) for f in fields]

    def write(row: Any) -> str:
        return ", ".join([key + enc(v) for (key, enc), v in zip(members, row[1:], strict=True)])

    return write


_session_members = _object_writer(SESSION_FIELDS)
_message_members = _object_writer(MESSAGE_FIELDS)


def _field(name: str, value: Any) -> str:
    """One `"name": value` member."""
    return _PLAIN(name) + ": " + _encoder(name)(value)


def document_head(username: str, exported_at: datetime) -> str:
    """The document up to the opening bracket of its session list."""
    members = [
        _field("format", FORMAT),
        _field("version", VERSION),
        _field("exported_at", exported_at),
        _field("username", username),
    ]
    return "{" + ", ".join(members) + ', "sessions": [\n'


DOCUMENT_TAIL = "\n]}\n"


def session_head(row: Any) -> str:
    """A session object up to the opening bracket of its messages."""
    return "{" + _session_members(row) + ', "messages": ['


def message_json(row: Any) -> str:
    """One message object (a row of the message batch query)."""
    return "{" + _message_members(row) + "}"


def session_batch(
    conn: Connection, *, user_id: int, session_ids: list[str] | None, after_id: int
) -> list[Any]:
    """The next SESSION_BATCH of the user's sessions after primary key `after_id`."""
    query = (
        select(*_SESSION_COLUMNS)
        .where(S.c.user_id == user_id, S.c.id > after_id)
        .order_by(S.c.id)
        .limit(SESSION_BATCH)
    )
    if session_ids is not None:
        query = query.where(S.c.session_id.in_(session_ids))
    return list(conn.execute(query).all())


# session_id is bounded as a range, not `=`: with `=` PostgreSQL may walk the primary key in id
# order filtering the whole table instead of range-scanning (session_id, id) (see messages.py).
# No filter on messages.user_id: the session row was read with the user's filter and a session
# never changes owner, while that filter made PostgreSQL AND in a bitmap of all the user's rows.
_SID = bindparam("sid", type_=M.c.session_id.type)
_MESSAGE_PAGE = (
    select(*_MESSAGE_COLUMNS)
    .where(
        M.c.session_id >= _SID,
        M.c.session_id <= _SID,
        M.c.id > bindparam("after", type_=M.c.id.type),
    )
    .order_by(M.c.session_id, M.c.id)
    .limit(MESSAGE_BATCH)
)


def message_batch(conn: Connection, *, session_id: str, after: int) -> list[Any]:
    """The next MESSAGE_BATCH messages after message id `after` of a session already read with
    its owner's filter (an index range scan of (session_id, id))."""
    return list(conn.execute(_MESSAGE_PAGE, {"sid": session_id, "after": after}))


def session_chunks(
    sessions: list[Any],
    messages_of: Callable[[Any], Iterator[Any]],
    *,
    first_lead: str,
    lead: str,
    tail: str,
) -> Iterator[str]:
    """The JSON of `sessions` (each after `lead`, the first after `first_lead`, each followed by
    `tail`), with the messages `messages_of(session)` gives."""
    for n, session in enumerate(sessions):
        parts = [(first_lead if n == 0 else lead) + session_head(session)]
        for count, message in enumerate(messages_of(session)):
            parts.append(("" if count == 0 else ", ") + message_json(message))
            if len(parts) >= MESSAGES_PER_CHUNK:
                yield "".join(parts)
                parts = []
        parts.append("]}" + tail)
        yield "".join(parts)
