"""UI-independent helpers for the Streamlit pages: captions, first-run setup code, metrics tables.

Nothing here imports Streamlit, so every function is testable on its own.
"""

from __future__ import annotations

import csv
import hmac
import io
import os
import re
import secrets
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from pa_core.records import MessageRecord, SessionMetrics
from pa_core.service.export import safe_cell

SETUP_CODE_FILE = "setup_code"
PAGE_SIZE_MESSAGES = 50
PAGE_SIZE_SESSIONS = 20
UNTITLED = "New chat"
# Every `![` not already escaped (an even run of backslashes before it) gets a backslash.
_MD_IMAGE = re.compile(r"(?<!\\)((?:\\\\)*)!(?=\[)")
_STREAM_TAIL = re.compile(r"\\*!?\Z")  # what a later chunk could turn into an unescaped `![`
LAZY_EXPORT_MAX = 5_000  # larger CSV exports are prepared first, with a progress bar


# -- first run: a one-time setup code, so only whoever started the server creates the admin ----


def setup_code_path(auth_config: Path | str) -> Path:
    """Where the one-time first-run code lives: beside the auth config."""
    return Path(auth_config).parent / SETUP_CODE_FILE


def ensure_setup_code(auth_config: Path | str) -> tuple[str, bool]:
    """The first-run code (created once, mode 0600); True as second item when just created."""
    path = setup_code_path(auth_config)
    if path.exists():
        return path.read_text(encoding="utf-8").strip(), False
    path.parent.mkdir(parents=True, exist_ok=True)
    code = secrets.token_urlsafe(9)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another browser tab created it at the same moment
        return path.read_text(encoding="utf-8").strip(), False
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(code)
    return code, True


def check_setup_code(auth_config: Path | str, entered: str | None) -> bool:
    """True when `entered` matches the stored first-run code (constant-time comparison)."""
    path = setup_code_path(auth_config)
    if not entered or not path.exists():
        return False
    stored = path.read_text(encoding="utf-8").strip()
    return hmac.compare_digest(stored.encode(), entered.strip().encode())


def remove_setup_code(auth_config: Path | str) -> None:
    """Forget the first-run code once the first admin exists."""
    setup_code_path(auth_config).unlink(missing_ok=True)


# -- chat ------------------------------------------------------------------------------------------


def message_caption(message: MessageRecord) -> str:
    """'calculator · 12 ms · 42 tokens' for an assistant message ('' when nothing to say)."""
    parts: list[str] = []
    if message.tools_used:
        parts.append("tools: " + ", ".join(message.tools_used))
    if message.processing_time_ms is not None:
        parts.append(format_duration_ms(message.processing_time_ms))
    if message.token_count:
        parts.append(f"{message.token_count:,} tokens")
    parts.append(format_timestamp(message.created_at))
    return " · ".join(parts)


def format_duration_ms(ms: float | None) -> str:
    """'850 ms' or '2.4 s'."""
    if ms is None:
        return "–"
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def format_timestamp(value: datetime | None) -> str:
    """A short UTC timestamp: '2026-11-24 08:15 UTC'."""
    if value is None:
        return ""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M UTC")


def session_title(title: str | None) -> str:
    """A session's title, or 'New chat' when it has none."""
    return title or UNTITLED


def md_text(text: str) -> str:
    """Text shown literally inside markdown (every formatting character escaped)."""
    for ch in "\\`*_{}[]()#+-.!|<>~":
        text = text.replace(ch, "\\" + ch)
    return text


def csv_file_name(prefix: str, *, now: datetime | None = None) -> str:
    """'prefix-20261124-0815.csv'."""
    now = now or datetime.now(UTC)
    return f"{prefix}-{now:%Y%m%d-%H%M}.csv"


# -- analytics -------------------------------------------------------------------------------------


def date_range_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00 UTC, end+1 00:00 UTC): the half-open range session_metrics expects."""
    if end < start:
        start, end = end, start
    since = datetime.combine(start, time.min, tzinfo=UTC)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
    return since, until


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
        ("processing time p95 (ms)", _round(metrics.processing_time_p95_ms)),
        ("errors", metrics.errors),
        ("error rate", round(metrics.error_rate, 4)),
        ("total tokens", metrics.total_tokens),
    ]


def daily_rows(metrics: SessionMetrics) -> list[dict[str, Any]]:
    """One dict per day: day, sessions, messages, errors, mean processing time (as computed)."""
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
        for key in ("sessions", "messages", "errors", "processing_time_mean_ms"):
            value = row[key]
            w.writerow(["daily", day, key, "" if value is None else value])
    for tool, count in metrics.tool_usage.items():
        w.writerow(["tool_usage", safe_cell(tool), "uses", count])
    for u in metrics.per_user or []:
        for key in ("sessions", "messages", "errors", "tokens"):
            w.writerow(["per_user", safe_cell(u.username), key, getattr(u, key)])
    return buffer.getvalue()


def selected_label(count: int) -> str:
    """Label of the sessions export button."""
    if count == 0:
        return "Download CSV (all sessions)"
    return f"Download CSV ({count} selected session{'s' if count != 1 else ''})"


def chunks_to_bytes(chunks: Iterable[str]) -> bytes:
    """Join CSV text chunks into UTF-8 bytes with a BOM for spreadsheet apps."""
    return ("\ufeff" + "".join(chunks)).encode("utf-8")


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


def no_remote_images(text: str) -> str:
    """Markdown with `![alt](url)` images turned into plain links, so no URL loads unasked."""
    return _MD_IMAGE.sub(r"\1\\!", text)


def no_remote_images_stream(chunks: Iterable[str]) -> Iterator[str]:
    """no_remote_images over a stream of chunks: an `![` split across chunks is caught too.

    A chunk's trailing backslashes and `!` are held back and put before the next chunk.
    """
    held = ""
    for chunk in chunks:
        text = held + chunk
        held = _STREAM_TAIL.search(text).group()
        text = text[: len(text) - len(held)]
        if text:
            yield no_remote_images(text)
    if held:
        yield held
