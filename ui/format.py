"""Text the pages show: captions, titles, button labels, file names, date ranges, safe markdown.

Times are shown in the browser's time zone (ui.clock); exports and file names stay UTC.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from pa_core import MessageRecord
from ui.clock import absolute_time as absolute_time
from ui.clock import browser_zone as browser_zone
from ui.clock import clock_time as clock_time
from ui.clock import day_group as day_group
from ui.clock import relative_time as relative_time

PAGE_SIZE_MESSAGES = 50
PAGE_SIZE_SESSIONS = 20
UNTITLED = "New chat"
# Every `![` not already escaped (an even run of backslashes before it) gets a backslash.
_MD_IMAGE = re.compile(r"(?<!\\)((?:\\\\)*)!(?=\[)")
_SLUG_JUNK = re.compile(r"[^a-z0-9]+")
_STREAM_TAIL = re.compile(r"\\*!?\Z")  # what a later chunk could turn into an unescaped `![`


def message_caption(
    message: MessageRecord, *, now: datetime | None = None, tz: tzinfo | None = None
) -> str:
    """'tools: calculator · 12 ms · 42 tokens · 17:15' (browser time) for an assistant message."""
    parts: list[str] = []
    if message.tools_used:
        parts.append("tools: " + ", ".join(message.tools_used))
    if message.processing_time_ms is not None:
        parts.append(format_duration_ms(message.processing_time_ms))
    if message.token_count:
        parts.append(f"{message.token_count:,} tokens")
    parts.append(clock_time(message.created_at, now=now, tz=tz))
    return " · ".join(parts)


def message_time_help(message: MessageRecord, *, tz: tzinfo | None = None) -> str:
    """The full time of a message, for a caption's hover text (help=)."""
    return absolute_time(message.created_at, tz=tz)


def format_duration_ms(ms: float | None) -> str:
    """'850 ms' or '2.4 s'."""
    if ms is None:
        return "–"
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def format_timestamp(value: datetime | None, *, tz: tzinfo | None = None) -> str:
    """A short timestamp in the browser's zone: '2026-11-24 17:15 JST' ('... 08:15 UTC' in UTC)."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    local = value.astimezone(tz or browser_zone())
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or 'UTC'}"


TITLE_MAX = 255


def clip_title(text: str) -> tuple[str, bool]:
    """A title with whitespace collapsed, cut to 255 characters; True when it was cut."""
    title = " ".join(text.split())
    if len(title) <= TITLE_MAX:
        return title, False
    return title[: TITLE_MAX - 1].rstrip() + "…", True


def session_title(title: str | None) -> str:
    """A session's title, or 'New chat' when it has none."""
    return title or UNTITLED


def md_text(text: str) -> str:
    """Text shown literally inside markdown (every formatting character escaped)."""
    for ch in "\\`*_{}[]()#+-.!|<>~":
        text = text.replace(ch, "\\" + ch)
    return text


def selected_label(count: int, kind: str = "CSV") -> str:
    """Label of a sessions export button: 'Download CSV (all sessions)', '... (2 selected ...)'."""
    if count == 0:
        return f"Download {kind} (all sessions)"
    return f"Download {kind} ({count} selected session{'s' if count != 1 else ''})"


def slug(text: str | None, *, fallback: str, max_len: int = 60) -> str:
    """A file-name-safe, lower-case ASCII slug of `text` ('Trip: Rome!' -> 'trip-rome')."""
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    cleaned = _SLUG_JUNK.sub("-", ascii_text.casefold()).strip("-")
    return cleaned[:max_len].rstrip("-") or fallback


def date_range_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00 UTC, end+1 00:00 UTC): the half-open range session_metrics expects."""
    if end < start:
        start, end = end, start
    since = datetime.combine(start, time.min, tzinfo=UTC)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
    return since, until


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
