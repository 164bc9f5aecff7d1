"""The Analytics chart specs: every day of the range, real dates, whole-number count axes."""

from __future__ import annotations

from datetime import date

from pa_core.records import DailyMetrics, SessionMetrics
from ui import charts


def _metrics(daily: list[DailyMetrics]) -> SessionMetrics:
    return SessionMetrics(
        None, None, 1, 1, 2, 1, 1, len(daily), 2.0, 5.0, 5.0, 0, 0.0, 0, {}, daily, None
    )


def test_one_day_of_data_fills_the_whole_range_with_dates():
    day = DailyMetrics(date(2026, 12, 1), 1, 2, 0, 5.0, processing_time_p50_ms=5.0)
    frame = charts.daily_frame(_metrics([day]), date(2026, 11, 2), date(2026, 12, 1))
    assert len(frame) == 30 and frame["messages"].sum() == 2
    assert list(frame["label"])[:2] == ["Nov 02", "Nov 03"] and frame["label"].iloc[-1] == "Dec 01"
    assert frame["p50"].isna().sum() == 29  # a gap, not a zero, on days without replies
    spec = charts.daily_counts(frame, "messages", "messages").to_dict()
    x, y = spec["encoding"]["x"], spec["encoding"]["y"]
    assert x["type"] == "ordinal" and x["field"] == "label" and x["sort"][0] == "Nov 02"
    assert y["type"] == "quantitative" and y["axis"]["format"] == "d"
    assert y["axis"]["tickMinStep"] == 1 and y["scale"]["domain"] == [0, 2.0]


def test_a_range_over_two_years_labels_the_year_and_all_zero_has_a_real_axis():
    frame = charts.daily_frame(_metrics([]), date(2025, 12, 30), date(2026, 1, 2))
    assert list(frame["label"]) == ["Dec 30, 2025", "Dec 31, 2025", "Jan 01, 2026", "Jan 02, 2026"]
    spec = charts.daily_counts(frame, "errors", "failed replies").to_dict()
    assert spec["encoding"]["y"]["scale"]["domain"] == [0, 1.0]  # never a lone 0 tick
    feedback = charts.daily_feedback(frame).to_dict()
    assert feedback["encoding"]["y"]["axis"]["format"] == "d"
    latency = charts.daily_latency(frame).to_dict()
    assert latency["encoding"]["x"]["type"] == "ordinal"
    kinds = charts.ranked_bars({"RateLimitError": 3}, what="kind", title="failed").to_dict()
    assert kinds["encoding"]["x"]["axis"]["format"] == "d"
