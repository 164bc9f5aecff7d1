"""The Analytics page's charts: Altair specs with explicit axis types, one bar per day.

Every per-day chart covers the whole selected range (days without messages are zero bars), its
x axis is an ordinal of real dates formatted here (no time-zone shift in the browser, no axis
that labels a single day "December"), and count axes show whole numbers only.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import altair as alt
import pandas as pd

from pa_core import SessionMetrics

HEIGHT = 220
UP, DOWN = "helpful", "not helpful"


def daily_frame(metrics: SessionMetrics, start: date, end: date) -> pd.DataFrame:
    """One row per day of [start, end], zeros (or gaps for latency) where nothing happened."""
    by_day = {d.day: d for d in metrics.daily}
    rows = []
    span_years = start.year != end.year
    day = start
    while day <= end:
        d = by_day.get(day)
        rows.append(
            {
                "day": day.isoformat(),
                "label": day.strftime("%b %d, %Y" if span_years else "%b %d"),
                "sessions": d.sessions if d else 0,
                "messages": d.messages if d else 0,
                "errors": d.errors if d else 0,
                "feedback_up": d.feedback_up if d else 0,
                "feedback_down": d.feedback_down if d else 0,
                "p50": d.processing_time_p50_ms if d else None,
                "p95": d.processing_time_p95_ms if d else None,
                "tokens": (d.tokens or 0) if d else 0,
            }
        )
        day += timedelta(days=1)
    return pd.DataFrame(rows)


def _x(frame: pd.DataFrame) -> alt.X:
    """The day axis: an ordinal of date labels in calendar order, overlapping labels dropped."""
    return alt.X(
        "label:O",
        sort=list(frame["label"]),
        title=None,
        axis=alt.Axis(labelAngle=0, labelOverlap=True, labelPadding=4),
    )


def _count_y(field: str, title: str, top: float) -> alt.Y:
    """A count axis from 0: whole-number ticks only, at least 0..1 so no lone 0 tick."""
    return alt.Y(
        f"{field}:Q",
        title=title,
        scale=alt.Scale(domain=[0, max(1, float(top))], nice=True),
        axis=alt.Axis(format="d", tickMinStep=1),
    )


def _tooltip(*fields: tuple[str, str, str]) -> list[alt.Tooltip]:
    return [alt.Tooltip("day:N", title="day")] + [
        alt.Tooltip(f"{name}:{kind}", title=title) for name, kind, title in fields
    ]


def daily_counts(frame: pd.DataFrame, field: str, title: str, color: str | None = None) -> Any:
    """Bars of one count per day (messages, errors, tokens)."""
    mark = alt.Chart(frame).mark_bar(color=color) if color else alt.Chart(frame).mark_bar()
    return mark.encode(
        x=_x(frame),
        y=_count_y(field, title, frame[field].max()),
        tooltip=_tooltip((field, "Q", title), ("sessions", "Q", "sessions")),
    ).properties(height=HEIGHT)


def daily_feedback(frame: pd.DataFrame) -> Any:
    """Stacked bars per day: replies rated helpful and not helpful."""
    long = frame.melt(
        id_vars=["day", "label"],
        value_vars=["feedback_up", "feedback_down"],
        var_name="rating",
        value_name="replies",
    )
    long["rating"] = long["rating"].map({"feedback_up": UP, "feedback_down": DOWN})
    top = (frame["feedback_up"] + frame["feedback_down"]).max()
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=_x(frame),
            y=_count_y("replies", "rated replies", top),
            color=alt.Color(
                "rating:N",
                scale=alt.Scale(domain=[UP, DOWN], range=["#2e9d5b", "#d9534f"]),
                legend=alt.Legend(orient="top", title=None),
            ),
            order=alt.Order("rating:N", sort="descending"),
            tooltip=[
                alt.Tooltip("day:N"),
                alt.Tooltip("rating:N"),
                alt.Tooltip("replies:Q", format="d"),
            ],
        )
        .properties(height=HEIGHT)
    )


def daily_latency(frame: pd.DataFrame) -> Any:
    """p50 and p95 reply time per day: points joined by lines, gaps on days without replies."""
    long = frame.melt(
        id_vars=["day", "label"], value_vars=["p50", "p95"], var_name="percentile", value_name="ms"
    )
    return (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=_x(frame),
            y=alt.Y(
                "ms:Q",
                title="reply time (ms)",
                scale=alt.Scale(domainMin=0, nice=True),
                axis=alt.Axis(format=",.0f"),
            ),
            color=alt.Color(
                "percentile:N",
                scale=alt.Scale(domain=["p50", "p95"]),
                legend=alt.Legend(orient="top", title=None),
            ),
            tooltip=[alt.Tooltip("day:N"), alt.Tooltip("percentile:N"), alt.Tooltip("ms:Q")],
        )
        .properties(height=HEIGHT)
    )


def ranked_bars(counts: dict[str, int], *, what: str, title: str, color: str | None = None) -> Any:
    """Horizontal bars of counts by name (tools, error kinds), most first."""
    frame = pd.DataFrame({what: list(counts), "count": list(counts.values())})
    mark = alt.Chart(frame).mark_bar(color=color) if color else alt.Chart(frame).mark_bar()
    return mark.encode(
        y=alt.Y(f"{what}:N", sort="-x", title=None, axis=alt.Axis(labelLimit=220)),
        x=alt.X(
            "count:Q",
            title=title,
            scale=alt.Scale(domain=[0, max(1, int(frame["count"].max()))], nice=True),
            axis=alt.Axis(format="d", tickMinStep=1),
        ),
        tooltip=[alt.Tooltip(f"{what}:N"), alt.Tooltip("count:Q", format="d")],
    ).properties(height=60 + 32 * len(frame))
