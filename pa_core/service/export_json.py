"""The lossless JSON export: reading sessions and messages in keyset batches, and encoding them.

Document: {"format": "personal-assistant-export", "version": 1, "exported_at", "username",
"sessions": [{session fields..., "messages": [{message fields...}]}]}. Sessions come in the
order they were stored, messages in insertion order. JSON column values are written with
sorted keys, so the same data gives the same bytes from SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, select, tuple_

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
_SESSION_COLUMNS = [S.c.id, *(S.c[f] for f in SESSION_FIELDS)]
_MESSAGE_COLUMNS = [S.c.id, M.c.id, *(M.c[f] for f in MESSAGE_FIELDS)]


def dumps(value: Any) -> str:
    """Compact JSON text, non-ASCII kept."""
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _field(name: str, value: Any) -> str:
    """One `"name": value` member; timestamps ISO 8601 with offset, JSON columns key-sorted."""
    if isinstance(value, datetime):
        text = dumps(value.isoformat())
    elif name in JSON_COLUMNS:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))
    else:
        text = dumps(value)
    return f"{dumps(name)}: {text}"


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
    members = [_field(f, row[i + 1]) for i, f in enumerate(SESSION_FIELDS)]
    return "{" + ", ".join(members) + ', "messages": ['


def message_json(row: Any) -> str:
    """One message object (a row of the message batch query)."""
    return "{" + ", ".join(_field(f, row[i + 2]) for i, f in enumerate(MESSAGE_FIELDS)) + "}"


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


def _message_query(user_id: int, session_pks: list[int], after: tuple[int, int]) -> Select:
    """Messages of these sessions after (session pk, message id), in that order."""
    return (
        select(*_MESSAGE_COLUMNS)
        .select_from(M.join(S, S.c.session_id == M.c.session_id))
        .where(
            S.c.id.in_(session_pks),
            S.c.user_id == user_id,
            M.c.user_id == user_id,
            tuple_(S.c.id, M.c.id) > tuple_(*after),
        )
        .order_by(S.c.id, M.c.id)
        .limit(MESSAGE_BATCH)
    )


def message_batch(
    conn: Connection, *, user_id: int, session_pks: list[int], after: tuple[int, int]
) -> list[Any]:
    """The next MESSAGE_BATCH message rows of these sessions (keyset `after`)."""
    return list(conn.execute(_message_query(user_id, session_pks, after)).all())


def session_chunks(
    sessions: list[Any], messages: Iterator[Any], *, first_lead: str, lead: str, tail: str
) -> Iterator[str]:
    """The JSON of `sessions` (each after `lead`, the first after `first_lead`, each followed by
    `tail`), their messages taken in order from `messages`."""
    pending = next(messages, None)
    for n, session in enumerate(sessions):
        parts = [(first_lead if n == 0 else lead) + session_head(session)]
        count = 0
        while pending is not None and pending[0] == session[0]:
            parts.append(("" if count == 0 else ", ") + message_json(pending))
            count += 1
            pending = next(messages, None)
            if len(parts) >= MESSAGES_PER_CHUNK:
                yield "".join(parts)
                parts = []
        parts.append("]}" + tail)
        yield "".join(parts)
