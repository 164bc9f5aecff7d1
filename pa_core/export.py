"""CSV export of messages, streamed in chunks with bounded memory (OWASP CSV-injection safe)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

from sqlalchemy import Connection, select

from pa_core.models import ConversationMessage, ConversationSession, User

CSV_COLUMNS = (
    "session_id",
    "session_title",
    "username",
    "message_id",
    "created_at",
    "role",
    "content",
    "tools_used",
    "processing_time_ms",
    "token_count",
    "has_error",
    "error_message",
)
ROWS_PER_CHUNK = 500
_DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

M = ConversationMessage.__table__
S = ConversationSession.__table__
U = User.__table__


def safe_cell(value: object) -> str:
    """A CSV cell; text starting with = + - @ tab or CR gets a leading ' (OWASP)."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if text.startswith(_DANGEROUS_PREFIXES):
        return "'" + text
    return text


def iter_csv(
    open_tx: Callable[[], AbstractContextManager[Connection]],
    *,
    user_id: int,
    session_ids: list[str] | None,
    progress: Callable[[int], None] | None = None,
) -> Iterator[str]:
    """Yield the header, then chunks of ROWS_PER_CHUNK rows, from a server-side cursor."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    yield _drain(buffer)
    if session_ids is not None and not session_ids:
        return
    query = (
        select(
            M.c.session_id,
            S.c.title,
            U.c.username,
            M.c.id,
            M.c.created_at,
            M.c.role,
            M.c.content,
            M.c.tools_used,
            M.c.processing_time_ms,
            M.c.token_count,
            M.c.has_error,
            M.c.error_message,
        )
        .select_from(M.join(S, S.c.session_id == M.c.session_id).join(U, U.c.id == S.c.user_id))
        .where(M.c.user_id == user_id)
        .order_by(S.c.created_at, S.c.id, M.c.id)
    )
    if session_ids is not None:
        query = query.where(M.c.session_id.in_(session_ids))
    with open_tx() as conn:
        result = conn.execution_options(yield_per=ROWS_PER_CHUNK).execute(query)
        for partition in result.partitions():
            for row in partition:
                writer.writerow(
                    (
                        row[0],
                        safe_cell(row[1]),
                        safe_cell(row[2]),
                        row[3],
                        row[4].isoformat(),
                        row[5],
                        safe_cell(row[6]),
                        json.dumps(row[7] or [], ensure_ascii=False),
                        "" if row[8] is None else row[8],
                        "" if row[9] is None else row[9],
                        "true" if row[10] else "false",
                        safe_cell(row[11]),
                    )
                )
            if progress is not None:
                progress(len(partition))
            yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate(0)
    return text
