"""The date and time tool: time zones from IANA names, cities and abbreviations."""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pa_core.agent.tools.base import Tool, ToolContext, ToolError

DATETIME = "get_datetime"

_TZ_ALIASES = {
    "utc": "UTC",
    "gmt": "UTC",
    "z": "UTC",
    "zulu": "UTC",
    "est": "America/New_York",
    "edt": "America/New_York",
    "eastern": "America/New_York",
    "cst": "America/Chicago",
    "cdt": "America/Chicago",
    "central": "America/Chicago",
    "mst": "America/Denver",
    "mountain": "America/Denver",
    "pst": "America/Los_Angeles",
    "pdt": "America/Los_Angeles",
    "pacific": "America/Los_Angeles",
    "cet": "Europe/Paris",
    "cest": "Europe/Paris",
    "bst": "Europe/London",
    "ist": "Asia/Kolkata",
    "jst": "Asia/Tokyo",
    "aest": "Australia/Sydney",
    "san francisco": "America/Los_Angeles",
    "washington": "America/New_York",
    "boston": "America/New_York",
    "seattle": "America/Los_Angeles",
    "beijing": "Asia/Shanghai",
    "delhi": "Asia/Kolkata",
    "new delhi": "Asia/Kolkata",
    "mumbai": "Asia/Kolkata",
    "munich": "Europe/Berlin",
    "frankfurt": "Europe/Berlin",
    "zurich": "Europe/Zurich",
    "geneva": "Europe/Zurich",
    "milan": "Europe/Rome",
    "barcelona": "Europe/Madrid",
    "osaka": "Asia/Tokyo",
    "kyoto": "Asia/Tokyo",
    "rio": "America/Sao_Paulo",
    "montreal": "America/Toronto",
}


@lru_cache(maxsize=1)
def _zone_index() -> dict[str, str]:
    """Lower-cased IANA names and their city parts ('new york' -> 'America/New_York')."""
    index: dict[str, str] = {}
    for name in sorted(available_timezones()):
        if name.startswith(("Etc/", "SystemV/", "posix/", "right/")):
            continue
        index.setdefault(name.lower(), name)
        city = name.rsplit("/", 1)[-1].replace("_", " ").lower()
        index.setdefault(city, name)
    index.update(_TZ_ALIASES)
    return index


def resolve_timezone(name: str | None) -> ZoneInfo:
    """A ZoneInfo from an IANA name, a city ('Tokyo', 'New York') or an abbreviation ('PST')."""
    if name is None or not str(name).strip():
        return ZoneInfo("UTC")
    key = " ".join(str(name).replace("_", " ").split()).lower()
    iana = _zone_index().get(key) or _zone_index().get(str(name).strip().lower())
    if iana is None:
        raise ToolError(f"I don't know the time zone {str(name).strip()!r}.")
    try:
        return ZoneInfo(iana)
    except (ZoneInfoNotFoundError, ValueError):
        raise ToolError(f"I don't know the time zone {str(name).strip()!r}.") from None


def find_timezone_in(text: str) -> str | None:
    """The longest known time zone / city name mentioned in `text`, if any."""
    words = re.findall(r"[A-Za-z_/+-]+", text)
    index = _zone_index()
    best: str | None = None
    for size in (3, 2, 1):
        for i in range(len(words) - size + 1):
            phrase = " ".join(words[i : i + size])
            key = phrase.replace("_", " ").lower()
            if key in index and (size > 1 or len(key) > 2 or key in ("utc", "gmt")):
                if key in ("time", "date", "now", "today", "is", "it", "in", "what", "day"):
                    continue
                if best is None or len(phrase) > len(best):
                    best = phrase
        if best:
            return best
    return None


def describe_now(now: datetime, tz: ZoneInfo) -> str:
    """'Tuesday, 24 November 2026, 09:05 (Europe/Paris, UTC+01:00)'."""
    local = now.astimezone(tz)
    offset = local.strftime("%z")
    offset = f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC"
    return f"{local.strftime('%A, %d %B %Y, %H:%M')} ({tz.key}, {offset})"


def _run_datetime(ctx: ToolContext, args: dict[str, Any]) -> str:
    tz = resolve_timezone(args.get("timezone"))
    return describe_now(ctx.clock(), tz)


DATETIME_TOOL = Tool(
    DATETIME,
    "The current date and time, in a time zone (IANA name such as 'Europe/Paris', "
    "a city such as 'Tokyo', or 'UTC'; default UTC).",
    {
        "type": "object",
        "properties": {"timezone": {"type": "string", "description": "default UTC"}},
    },
    _run_datetime,
)
