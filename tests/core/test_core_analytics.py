"""session_metrics' per-day series, percentiles, feedback, tokens and error kinds, both backends.

Data dated in the past is seeded through the real import path (it keeps the original times).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from pa_core.service.analytics import error_kind
from support.dated_export import document, session, turn

DAY1 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY2 = datetime(2026, 3, 5, 14, 0, tzinfo=UTC)


def _seed(svc, user):
    day1 = []
    for i, ms in enumerate([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]):
        day1 += turn(
            DAY1 + timedelta(minutes=i), f"q{i}", f"a{i}", ms=ms, feedback=1 if i < 3 else None
        )
    day2 = turn(DAY2, "hi", "boom", ms=500, error="RateLimitError: 429 Too Many Requests\ntrace")
    day2 += turn(DAY2 + timedelta(minutes=1), "x", "y", ms=700, tokens=42, feedback=-1)
    day2 += turn(
        DAY2 + timedelta(minutes=2), "1/0", "no", ms=5, error="calculator failed: division by zero"
    )
    day2 += turn(
        DAY2 + timedelta(minutes=3), "1/0", "no", ms=5, error="calculator failed: division by zero"
    )
    day2 += turn(DAY2 + timedelta(minutes=4), "?", "?", ms=6, error=None)
    report = svc.import_conversations(
        user, document(user.username, [session("one", day1), session("two", day2)])
    )
    assert report.sessions_imported == 2


def test_per_day_series_percentiles_feedback_and_tokens(svc, alice):
    _seed(svc, alice)
    m = svc.session_metrics(
        user=alice, since=DAY1 - timedelta(days=1), until=DAY2 + timedelta(days=1)
    )
    assert m.messages == 30 and m.active_days == 2
    assert [d.day for d in m.daily] == [date(2026, 3, 2), date(2026, 3, 5)]
    d1, d2 = m.daily
    # nearest rank over 10..100 ms: p50 = 5th value, p95 = 10th
    assert (d1.processing_time_p50_ms, d1.processing_time_p95_ms) == (50.0, 100.0)
    # day 2: 5, 5, 6, 500, 700 -> p50 = 3rd = 6, p95 = 5th = 700
    assert (d2.processing_time_p50_ms, d2.processing_time_p95_ms) == (6.0, 700.0)
    assert (d1.feedback_up, d1.feedback_down, d2.feedback_up, d2.feedback_down) == (3, 0, 0, 1)
    assert (m.feedback_up, m.feedback_down) == (3, 1)
    assert d1.tokens is None and d2.tokens == 42  # only where a provider reported tokens
    assert m.total_tokens == 42 and m.token_messages == 1
    # all 15 replies: 5, 5, 6, 10, 20, ..., 100, 500, 700 -> p50 = 8th = 50, p95 = 15th = 700
    assert (m.processing_time_p50_ms, m.processing_time_p95_ms) == (50.0, 700.0)
    assert m.errors_by_kind == {"calculator failed": 2, "RateLimitError": 1}
    assert m.errors == 3 and d2.errors == 3 and d1.errors == 0


def test_one_day_of_data_and_a_year(svc, alice, bob):
    _seed(svc, alice)
    one_day = svc.session_metrics(
        user=alice, since=datetime(2026, 3, 2, tzinfo=UTC), until=datetime(2026, 3, 3, tzinfo=UTC)
    )
    assert [d.day for d in one_day.daily] == [date(2026, 3, 2)]
    assert one_day.errors_by_kind == {} and one_day.token_messages == 0
    year = [
        turn(datetime(2025, 3, 1, 8, tzinfo=UTC) + timedelta(days=30 * k), f"month {k}", "ok")
        for k in range(12)
    ]
    svc.import_conversations(bob, document("bob", [session("year", sum(year, []))]))
    m = svc.session_metrics(
        user=bob, since=datetime(2025, 3, 1, tzinfo=UTC), until=datetime(2026, 3, 1, tzinfo=UTC)
    )
    assert m.active_days == 12 and len(m.daily) == 12 and m.messages == 24
    assert m.daily[0].day == date(2025, 3, 1) and m.daily[-1].day == date(2026, 1, 25)
    assert all(d.messages == 2 and d.processing_time_p50_ms == 10.0 for d in m.daily)
    assert m.total_tokens == 0 and m.token_messages == 0
    everyone = svc.session_metrics(since=datetime(2025, 1, 1, tzinfo=UTC))
    assert everyone.messages == 54 and everyone.errors_by_kind["calculator failed"] == 2


def test_empty_range_has_no_percentiles_or_kinds(svc, alice):
    m = svc.session_metrics(user=alice)
    assert m.processing_time_p50_ms is None and m.processing_time_p95_ms is None
    assert m.errors_by_kind == {} and m.token_messages == 0 and m.daily == []


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("RateLimitError: Error code: 429", "RateLimitError"),
        ("calculator failed: division by zero", "calculator failed"),
        ("the reader closed the stream early", "the reader closed the stream early"),
        ("", "unknown error"),
        (None, "unknown error"),
        ("x" * 100, "x" * 59 + "…"),
    ],
)
def test_error_kind(line, kind):
    assert error_kind(line) == kind
