"""Analytics: session metrics over a date range, per-day charts, CSV download."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import streamlit as st

import ui
from pa_core import PAError
from ui import charts, exports
from ui import format as fmt

user = ui.require_login()
svc = ui.service()

PRESETS = {"7 days": 7, "30 days": 30, "90 days": 90, "Year": 365, "Custom": None}
RANGE_KEY = "pa-analytics-range"

st.title("Analytics")

today = datetime.now(UTC).date()
with st.container(horizontal=True, vertical_alignment="bottom"):
    preset = st.segmented_control(
        "Period (UTC days, ending today)",
        list(PRESETS),
        default="30 days",
        required=True,
        key="pa-analytics-preset",
    )
    days = PRESETS.get(preset or "30 days")
    if days is None:
        picked = st.date_input(
            "Date range (UTC)",
            value=(today - timedelta(days=29), today),
            max_value=today,
            key=RANGE_KEY,
            width=260,
        )
    else:
        picked = (today - timedelta(days=days - 1), today)
    scope = "mine"
    if user.is_admin:
        choice = st.radio(
            "Figures for", ["My sessions", "Everyone"], horizontal=True, key="pa-analytics-scope"
        )
        scope = "everyone" if choice == "Everyone" else "mine"
    download_slot = st.empty()  # filled once the figures are known

if not isinstance(picked, tuple | list) or len(picked) != 2:
    st.info("Pick the last day of the range too.")
    st.stop()
start, end = sorted(picked)
since, until = fmt.date_range_bounds(start, end)
try:
    metrics = svc.session_metrics(
        user=None if scope == "everyone" else user, since=since, until=until
    )
except PAError as exc:
    ui.show_error(exc, "The figures could not be computed")
    st.stop()

download_slot.download_button(
    "Download metrics (CSV)",
    data=exports.metrics_csv(metrics, scope=scope),
    file_name=exports.metrics_file_name(user.username, scope, start, end),
    mime="text/csv",
    on_click="ignore",
    icon=":material/download:",
    key="pa-analytics-csv",
)

st.caption(f"{start:%b %d, %Y} – {end:%b %d, %Y} (UTC), {(end - start).days + 1} day(s)")
if metrics.messages == 0:
    st.info("No messages in this date range yet — chat a little and come back.")

with st.container(horizontal=True):
    st.metric("Sessions", f"{metrics.sessions:,}", help="Sessions with messages in the range")
    st.metric("Messages", f"{metrics.messages:,}")
    st.metric("Active days", f"{metrics.active_days:,}")
    st.metric("Messages per session", f"{metrics.messages_per_session:.1f}")
with st.container(horizontal=True):
    st.metric("Reply time (p50)", fmt.format_duration_ms(metrics.processing_time_p50_ms))
    st.metric("Reply time (p95)", fmt.format_duration_ms(metrics.processing_time_p95_ms))
    st.metric(
        "Error rate",
        f"{metrics.error_rate:.1%}",
        help=f"{metrics.errors:,} of {metrics.assistant_messages:,} replies failed",
    )
    st.metric(
        "Feedback",
        f"{metrics.feedback_up:,} up · {metrics.feedback_down:,} down",
        help="Replies rated helpful (thumbs up) / not helpful (thumbs down)",
    )
    st.metric(
        "Tokens",
        f"{metrics.total_tokens:,}" if metrics.token_messages else "—",
        help=(
            f"Reported by the model for {metrics.token_messages:,} message(s)"
            if metrics.token_messages
            else "No model reported token counts in this range (the offline assistant has none)"
        ),
    )

if metrics.messages:
    frame = charts.daily_frame(metrics, start, end)
    left, right = st.columns(2)
    with left:
        st.subheader("Messages per day")
        st.altair_chart(charts.daily_counts(frame, "messages", "messages"), width="stretch")
    with right:
        st.subheader("Reply time per day")
        st.altair_chart(charts.daily_latency(frame), width="stretch")
    left, right = st.columns(2)
    with left:
        st.subheader("Feedback per day")
        if metrics.feedback_up or metrics.feedback_down:
            st.altair_chart(charts.daily_feedback(frame), width="stretch")
        else:
            st.caption("No reply was rated in this range (thumbs up / down under a reply).")
    with right:
        st.subheader("Errors per day")
        if metrics.errors:
            st.altair_chart(
                charts.daily_counts(frame, "errors", "failed replies", color="#d9534f"),
                width="stretch",
            )
        else:
            st.caption("No failed replies in this range.")
    left, right = st.columns(2)
    with left:
        st.subheader("Tool usage")
        if metrics.tool_usage:
            st.altair_chart(
                charts.ranked_bars(metrics.tool_usage, what="tool", title="uses"), width="stretch"
            )
        else:
            st.caption("No tools used in this range.")
    with right:
        st.subheader("Errors by kind")
        if metrics.errors_by_kind:
            st.altair_chart(
                charts.ranked_bars(
                    metrics.errors_by_kind, what="kind", title="failed replies", color="#d9534f"
                ),
                width="stretch",
            )
        else:
            st.caption("No failed replies in this range.")
    if metrics.token_messages:
        st.subheader("Tokens per day")
        st.caption("Only replies whose model reported a token count are counted.")
        st.altair_chart(charts.daily_counts(frame, "tokens", "tokens"), width="stretch")

if scope == "everyone" and metrics.per_user:
    st.subheader("Per user")
    st.dataframe(
        pd.DataFrame([u._asdict() for u in metrics.per_user]),
        hide_index=True,
        width="stretch",
    )
