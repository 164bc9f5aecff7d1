"""CSV export of messages, streamed in chunks with bounded memory (OWASP CSV-injection safe)."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import Connection, Select, select

from pa_core.service.row_scope import flush_scope
from pa_core.service.tables import MESSAGES as M
from pa_core.service.tables import SESSIONS as S
from pa_core.service.tables import USERS as U

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


def safe_cell(value: object) -> str:
    """A CSV cell; text starting with = + - @ tab or CR gets a leading ' (OWASP)."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if text.startswith(_DANGEROUS_PREFIXES):
        return "'" + text
    return text


def csv_header() -> str:
    """The CSV header row (CSV_COLUMNS)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(CSV_COLUMNS)
    return buffer.getvalue()


def iter_csv_rows(
    conn: Connection,
    *,
    user_id: int,
    session_ids: list[str] | None,
    progress: Callable[[int], None] | None = None,
) -> Iterator[str]:
    """CSV rows of the user's messages in chunks (PostgreSQL: COPY; else a cursor)."""
    if conn.dialect.name == "postgresql":
        yield from _iter_pg_copy(conn, user_id=user_id, session_ids=session_ids, progress=progress)
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    query = _export_query(user_id, session_ids)
    result = conn.execution_options(yield_per=ROWS_PER_CHUNK).execute(query)
    for partition in result.partitions():
        writer.writerows(map(_csv_row, partition))
        if progress is not None:
            progress(len(partition))
        yield _drain(buffer)


def _csv_row(row: Any) -> tuple:
    """One export row as CSV cells, the same cells the COPY path formats on the server."""
    return (
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


def _export_query(user_id: int, session_ids: list[str] | None) -> Select:
    """The export rows for the Python path (SQLite): same columns and order as the COPY."""
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
    return query


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate(0)
    return text


# PostgreSQL: the server formats the CSV (COPY) with the same cells as the Python path above:
# the injection guard, ISO timestamps like datetime.isoformat(), '[]' for no tools, true/false,
# and NULLIF(..., '') so that empty text stays an unquoted empty cell.
_PG_PREFIXES = ", ".join(f"chr({ord(p)})" for p in _DANGEROUS_PREFIXES)
_PG_SAFE = (
    "NULLIF(CASE WHEN left({0}, 1) IN (" + _PG_PREFIXES + ") THEN '''' || {0} ELSE {0} END, '')"
)
_PG_TS = "m.created_at AT TIME ZONE 'UTC'"
_PG_COPY = f"""
COPY (
    SELECT m.session_id,
           {_PG_SAFE.format("s.title")},
           {_PG_SAFE.format("u.username")},
           m.id,
           CASE WHEN date_part('microseconds', {_PG_TS})::int %% 1000000 = 0
                THEN to_char({_PG_TS}, 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"')
                ELSE to_char({_PG_TS}, 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"') END,
           m.role,
           {_PG_SAFE.format("m.content")},
           CASE WHEN jsonb_typeof(m.tools_used) = 'array' THEN m.tools_used::text ELSE '[]' END,
           m.processing_time_ms,
           m.token_count,
           CASE WHEN m.has_error THEN 'true' ELSE 'false' END,
           {_PG_SAFE.format("m.error_message")}
      FROM conversation_messages m
      JOIN conversation_sessions s ON s.session_id = m.session_id
      JOIN users u ON u.id = s.user_id
     WHERE m.user_id = %(uid)s {{where}}
     ORDER BY s.created_at, s.id, m.id
) TO STDOUT WITH (FORMAT csv)
"""
_QUEUE_CHUNKS = 4


class _Abandoned(Exception):
    """The consumer stopped reading; ends the COPY early."""


class _RowSink(io.TextIOBase):
    """Receives COPY output (one row per write) and hands batches of rows to the consumer."""

    def __init__(self, out: queue.Queue, stop: threading.Event):
        self.out, self.stop, self.rows = out, stop, []

    def write(self, data: str) -> int:
        """One CSV row from the server; CRLF line ends like the Python path."""
        self.rows.append(data[:-1] + "\r\n" if data.endswith("\n") else data)
        if len(self.rows) >= ROWS_PER_CHUNK:
            self.flush_rows()
        return len(data)

    def flush_rows(self) -> None:
        """Hand the pending rows over (blocks while the consumer is behind)."""
        if self.rows:
            self.put(("".join(self.rows), len(self.rows)))
            self.rows = []

    def put(self, item) -> None:
        """Queue `item`; give up when the consumer has gone away."""
        while True:
            if self.stop.is_set():
                raise _Abandoned()
            try:
                self.out.put(item, timeout=0.1)
                return
            except queue.Full:
                continue


def _iter_pg_copy(
    conn: Connection,
    *,
    user_id: int,
    session_ids: list[str] | None,
    progress: Callable[[int], None] | None,
) -> Iterator[str]:
    """Stream COPY ... TO STDOUT from a helper thread through a bounded queue."""
    where, params = "", {"uid": user_id}
    if session_ids is not None:
        where, params["sids"] = "AND m.session_id = ANY(%(sids)s)", list(session_ids)
    flush_scope(conn)  # the COPY below goes around SQLAlchemy
    dbapi = conn.connection.driver_connection
    out: queue.Queue = queue.Queue(maxsize=_QUEUE_CHUNKS)
    stop = threading.Event()
    sink = _RowSink(out, stop)
    done = object()

    def produce() -> None:
        try:
            with dbapi.cursor() as cur:
                sql = cur.mogrify(_PG_COPY.format(where=where), params).decode()
                cur.copy_expert(sql, sink)
            sink.flush_rows()
            sink.put(done)
        except _Abandoned:
            pass
        except BaseException as exc:  # noqa: BLE001 - handed to the consuming thread, re-raised
            with contextlib.suppress(_Abandoned):
                sink.put(exc)

    worker = threading.Thread(target=produce, name="pa-export-copy", daemon=True)
    worker.start()
    try:
        while True:
            item = out.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            text, count = item
            if progress is not None:
                progress(count)
            yield text
    finally:
        stop.set()
        worker.join()
