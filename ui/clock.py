"""Times in the browser's time zone: relative ('5 min ago'), clock ('yesterday 14:02'), full.

The zone is `st.context.timezone` (the browser's IANA name); UTC when the browser sent none,
sent one this machine does not know, or outside a script run (unit tests, the CLI). Stored
times are UTC; exports keep them in ISO 8601 UTC.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import streamlit as st

TODAY, YESTERDAY, LAST_WEEK, OLDER = "Today", "Yesterday", "Previous 7 days", "Older"
GROUPS = (TODAY, YESTERDAY, LAST_WEEK, OLDER)


@functools.lru_cache(maxsize=64)
def zone_named(name: str | None) -> tzinfo:
    """The zone of an IANA name ('Asia/Tokyo'); UTC for None or a name that is not known."""
    if not name or len(name) > 64:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):  # unknown, or not a valid key (e.g. '../x')
        return UTC


def browser_zone() -> tzinfo:
    """The browser's time zone in this script run (UTC when unknown)."""
    name = st.context.timezone if st.runtime.exists() else None  # bare mode: no browser
    return zone_named(name if isinstance(name, str) else None)


def local(value: datetime, tz: tzinfo | None = None) -> datetime:
    """`value` (UTC when naive) in the zone `tz` (default: the browser's)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(tz or browser_zone())


def _now(now: datetime | None, tz: tzinfo) -> datetime:
    return local(now or datetime.now(UTC), tz)


def days_ago(value: datetime, *, now: datetime | None = None, tz: tzinfo | None = None) -> int:
    """Calendar days between `value` and now in the zone (0 today, 1 yesterday; < 0 future)."""
    tz = tz or browser_zone()
    return (_now(now, tz).date() - local(value, tz).date()).days


def day_group(value: datetime, *, now: datetime | None = None, tz: tzinfo | None = None) -> str:
    """'Today', 'Yesterday', 'Previous 7 days' or 'Older', by the local calendar day."""
    days = days_ago(value, now=now, tz=tz)
    if days <= 0:
        return TODAY
    if days == 1:
        return YESTERDAY
    return LAST_WEEK if days <= 7 else OLDER


def clock_time(value: datetime, *, now: datetime | None = None, tz: tzinfo | None = None) -> str:
    """Wall-clock time that stays true: '14:02', 'yesterday 14:02', 'Mon 14:02', '3 Nov 14:02'."""
    tz = tz or browser_zone()
    when = local(value, tz)
    days = days_ago(when, now=now, tz=tz)
    hm = f"{when:%H:%M}"
    if days == 0:
        return hm
    if days == 1:
        return f"yesterday {hm}"
    if 1 < days < 7:
        return f"{when:%a} {hm}"
    if when.year == _now(now, tz).year:
        return f"{when.day} {when:%b} {hm}"
    return f"{when.day} {when:%b %Y} {hm}"


def relative_time(value: datetime, *, now: datetime | None = None, tz: tzinfo | None = None) -> str:
    """'just now', '5 min ago', '3 h ago' within a day, else the clock time ('yesterday 14:02')."""
    tz = tz or browser_zone()
    age = _now(now, tz) - local(value, tz)
    if timedelta(minutes=-1) < age < timedelta(minutes=1):
        return "just now"
    if timedelta(0) < age < timedelta(hours=1):
        return f"{int(age.total_seconds() // 60)} min ago"
    if timedelta(0) < age < timedelta(hours=6) and days_ago(value, now=now, tz=tz) == 0:
        return f"{int(age.total_seconds() // 3600)} h ago"
    return clock_time(value, now=now, tz=tz)


def absolute_time(value: datetime | None, *, tz: tzinfo | None = None) -> str:
    """The full time, for hover text: 'Tue 1 Dec 2026, 17:15:30 JST (08:15 UTC)'."""
    if value is None:
        return ""
    when = local(value, tz)
    text = f"{when:%a} {when.day} {when:%b %Y, %H:%M:%S} {when.tzname() or ''}".rstrip()
    utc = when.astimezone(UTC)
    if when.utcoffset() != timedelta(0):
        text += f" ({utc:%H:%M} UTC)"
    return text
