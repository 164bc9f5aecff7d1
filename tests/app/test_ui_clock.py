"""Local times (ui.clock), the sidebar's day groups and title cut: pure functions, no app."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from pa_core.records import SessionRecord
from ui import clock, sidebar
from ui import format as fmt

TOKYO = ZoneInfo("Asia/Tokyo")
NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # 21:00 in Tokyo, 07:00 in New York


def ago(**kw) -> datetime:
    return NOW - timedelta(**kw)


@pytest.mark.parametrize(
    ("value", "tz", "expected"),
    [
        (ago(seconds=20), TOKYO, "just now"),
        (NOW + timedelta(seconds=30), TOKYO, "just now"),  # a clock a little ahead
        (ago(minutes=5), TOKYO, "5 min ago"),
        (ago(minutes=59, seconds=59), TOKYO, "59 min ago"),
        (ago(hours=3), TOKYO, "3 h ago"),
        (ago(hours=10), TOKYO, "11:00"),  # 02:00 UTC = 11:00 the same day in Tokyo
        (ago(hours=22), TOKYO, "yesterday 23:00"),
        (ago(hours=10), NEW_YORK, "yesterday 21:00"),  # the same instant, another calendar day
        (ago(days=3), TOKYO, "Sat 21:00"),
        (ago(days=30), TOKYO, "1 Nov 21:00"),
        (ago(days=400), UTC, "27 Oct 2025 12:00"),
        (NOW + timedelta(days=2), UTC, "3 Dec 12:00"),  # the future: the date, never "ago"
    ],
)
def test_relative_time(value, tz, expected):
    assert clock.relative_time(value, now=NOW, tz=tz) == expected


def test_clock_time_is_wall_clock_without_minutes_ago():
    assert clock.clock_time(ago(minutes=5), now=NOW, tz=TOKYO) == "20:55"
    assert clock.clock_time(ago(minutes=5), now=NOW, tz=UTC) == "11:55"
    assert clock.clock_time(ago(days=1), now=NOW, tz=UTC) == "yesterday 12:00"
    naive = datetime(2026, 12, 1, 11, 0)  # taken as UTC
    assert clock.clock_time(naive, now=NOW, tz=TOKYO) == "20:00"


def test_absolute_time_names_the_zone_and_utc():
    assert (
        clock.absolute_time(ago(minutes=5), tz=TOKYO) == "Tue 1 Dec 2026, 20:55:00 JST (11:55 UTC)"
    )
    assert clock.absolute_time(ago(minutes=5), tz=UTC) == "Tue 1 Dec 2026, 11:55:00 UTC"
    assert clock.absolute_time(None) == ""
    assert fmt.format_timestamp(ago(minutes=5), tz=TOKYO) == "2026-12-01 20:55 JST"


@pytest.mark.parametrize(
    ("value", "tz", "group"),
    [
        (ago(minutes=1), TOKYO, clock.TODAY),
        (ago(hours=20), TOKYO, clock.TODAY),  # 16:00 UTC yesterday is 01:00 today in Tokyo
        (ago(hours=20), UTC, clock.YESTERDAY),
        (ago(hours=8), NEW_YORK, clock.YESTERDAY),  # 23:00 yesterday in New York
        (ago(days=2), TOKYO, clock.LAST_WEEK),
        (ago(days=7), TOKYO, clock.LAST_WEEK),
        (ago(days=8), TOKYO, clock.OLDER),
        (NOW + timedelta(hours=1), TOKYO, clock.TODAY),
    ],
)
def test_day_group(value, tz, group):
    assert clock.day_group(value, now=NOW, tz=tz) == group


def _session(n: int, when: datetime) -> SessionRecord:
    return SessionRecord(
        id=n, session_id=f"s{n}", user_id=1, title=f"t{n}", description=None,
        context_data=None, session_metadata=None, is_active=True, message_count=1,
        created_at=when, last_activity_at=when,
    )  # fmt: skip


def test_group_by_day_keeps_list_order_and_skips_empty_groups():
    rows = [_session(1, ago(minutes=1)), _session(2, ago(minutes=2)), _session(3, ago(days=3))]
    rows.append(_session(4, ago(days=40)))
    groups = sidebar.group_by_day(rows, now=NOW, tz=UTC)
    assert [(name, [s.id for s in ss]) for name, ss in groups] == [
        ("Today", [1, 2]),
        ("Previous 7 days", [3]),
        ("Older", [4]),
    ]
    assert sidebar.group_by_day([], now=NOW, tz=UTC) == []


@pytest.mark.parametrize("name", [None, "", "Not/AZone", "../../etc/passwd", "x" * 100])
def test_unknown_or_hostile_zone_names_fall_back_to_utc(name):
    assert clock.zone_named(name) is UTC


def test_zone_named_and_browser_zone_outside_a_run():
    assert clock.zone_named("Asia/Tokyo") == TOKYO
    assert clock.browser_zone() is UTC  # no script run, no browser


def test_clip_title():
    assert fmt.clip_title("  a \n b  ") == ("a b", False)
    assert fmt.clip_title("x" * 255) == ("x" * 255, False)
    title, cut = fmt.clip_title("word " * 80)  # 400 characters pasted
    assert cut and len(title) == 255 and title.endswith("…")
