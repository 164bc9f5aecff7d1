"""Downloads the pages offer: bytes of the service's exports, the analytics figures as CSV.

Large exports are written to a private temporary file, never kept in st.session_state; the
download button reads the file when clicked.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pa_core import SessionMetrics
from pa_core.service.export import safe_cell
from ui.format import slug

LAZY_EXPORT_MAX = 5_000  # larger CSV exports are prepared first, with a progress bar
# What a one-session file's title part may not be: the words of the all / selection names.
_RESERVED_WHAT = re.compile(r"(all|\d+)-conversations?|analytics(-.*)?")


# --- file names: whose, what, which day (UTC) -----------------------------------------------


def session_export_name(
    username: str, title: str | None, session_id: str, ext: str, *, now: datetime | None = None
) -> str:
    """One session: 'alice-weekend-in-lisbon-2026-12-01.csv'.

    A title that would read like an all-sessions or selection file ('All conversations',
    '3 conversations') gets the session's short id added, so the names never collide.
    """
    what = slug(title, fallback=f"chat-{session_id[:8]}")
    if _RESERVED_WHAT.fullmatch(what):
        what = f"{what}-{session_id[:8]}"
    return _name(username, what, ext, now)


def selection_export_name(
    username: str, count: int, ext: str, *, now: datetime | None = None
) -> str:
    """All sessions: 'alice-all-conversations-2026-12-01.json'; some: 'alice-3-conversations-…'."""
    what = "all-conversations" if count == 0 else f"{count}-conversation{'s' if count != 1 else ''}"
    return _name(username, what, ext, now)


def metrics_file_name(username: str, scope: str, start: date, end: date) -> str:
    """The analytics CSV: 'alice-analytics-mine-2026-11-02-to-2026-12-01.csv'."""
    who = slug(username, fallback="user")
    return f"{who}-analytics-{slug(scope, fallback='mine')}-{start:%Y-%m-%d}-to-{end:%Y-%m-%d}.csv"


def audit_file_name(*, now: datetime | None = None) -> str:
    """The audit log CSV: 'audit-log-2026-12-01.csv' (everyone's events, not one user's)."""
    now = now or datetime.now(UTC)
    return f"audit-log-{now.astimezone(UTC):%Y-%m-%d}.csv"


def _name(username: str, what: str, ext: str, now: datetime | None) -> str:
    now = now or datetime.now(UTC)
    return f"{slug(username, fallback='user')}-{what}-{now.astimezone(UTC):%Y-%m-%d}.{ext}"


def csv_bytes(chunks: Iterable[str]) -> bytes:
    """CSV text chunks as UTF-8 bytes, without a BOM (the encoding the README promises)."""
    return "".join(chunks).encode("utf-8")


def write_export_file(
    chunks: Iterable[str], *, replaces: str | None = None, suffix: str = ".csv"
) -> str:
    """Write text chunks (CSV, JSON) to a new private (0600) temporary file; return its path.

    The file a previous preparation of the same browser session left (`replaces`) is removed.
    """
    if replaces:
        Path(replaces).unlink(missing_ok=True)
    fd, path = tempfile.mkstemp(prefix="pa-export-", suffix=suffix)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        for chunk in chunks:
            fh.write(chunk)
    return path


def file_reader(path: str) -> Callable[[], bytes]:
    """A download-button callable returning the file's bytes ('' when it was removed)."""

    def read() -> bytes:
        try:
            return Path(path).read_bytes()
        except FileNotFoundError:
            return b""

    return read


def summary_rows(metrics: SessionMetrics) -> list[tuple[str, Any]]:
    """(figure, value) pairs of the headline figures, in display order."""
    return [
        ("sessions", metrics.sessions),
        ("sessions created", metrics.sessions_created),
        ("messages", metrics.messages),
        ("user messages", metrics.user_messages),
        ("assistant messages", metrics.assistant_messages),
        ("active days", metrics.active_days),
        ("messages per session", round(metrics.messages_per_session, 2)),
        ("processing time mean (ms)", _round(metrics.processing_time_mean_ms)),
        ("processing time p50 (ms)", _round(metrics.processing_time_p50_ms)),
        ("processing time p95 (ms)", _round(metrics.processing_time_p95_ms)),
        ("errors", metrics.errors),
        ("error rate", round(metrics.error_rate, 4)),
        ("feedback up", metrics.feedback_up),
        ("feedback down", metrics.feedback_down),
        ("total tokens", metrics.total_tokens if metrics.token_messages else None),
        ("messages with tokens reported", metrics.token_messages),
    ]


DAILY_KEYS = (
    "sessions",
    "messages",
    "errors",
    "feedback_up",
    "feedback_down",
    "processing_time_mean_ms",
    "processing_time_p50_ms",
    "processing_time_p95_ms",
    "tokens",
)


def daily_rows(metrics: SessionMetrics) -> list[dict[str, Any]]:
    """One dict per day with messages: counts, feedback, latency mean/p50/p95, tokens."""
    return [d._asdict() for d in metrics.daily]


def metrics_csv(metrics: SessionMetrics, *, scope: str) -> str:
    """The analytics figures as one CSV: summary, per day, tool usage and per user."""
    buffer = io.StringIO()
    w = csv.writer(buffer, lineterminator="\r\n")
    since = metrics.since.isoformat() if metrics.since else ""
    until = metrics.until.isoformat() if metrics.until else ""
    w.writerow(["section", "key", "metric", "value"])
    w.writerow(["range", "", "scope", scope])
    w.writerow(["range", "", "since", since])
    w.writerow(["range", "", "until", until])
    for name, value in summary_rows(metrics):
        w.writerow(["summary", "", name, "" if value is None else value])
    for row in daily_rows(metrics):
        day = row["day"].isoformat()
        for key in DAILY_KEYS:
            value = row[key]
            w.writerow(["daily", day, key, "" if value is None else value])
    for tool, count in metrics.tool_usage.items():
        w.writerow(["tool_usage", safe_cell(tool), "uses", count])
    for kind, count in (metrics.errors_by_kind or {}).items():
        w.writerow(["errors_by_kind", safe_cell(kind), "failed replies", count])
    for u in metrics.per_user or []:
        for key in ("sessions", "messages", "errors", "tokens"):
            w.writerow(["per_user", safe_cell(u.username), key, getattr(u, key)])
    return buffer.getvalue()


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)
