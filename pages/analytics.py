"""Analytics: session metrics over a date range, charts per day, CSV download."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import streamlit as st

import ui
from pa_core import PAError
from ui import exports
from ui import format as fmt

user = ui.require_login()
svc = ui.service()

st.title("Analytics")

today = datetime.now(UTC).date()
controls = st.columns([2, 2, 3], vertical_alignment="bottom")
with controls[0]:
    picked = st.date_input(
        "Date range (UTC)",
        value=(today - timedelta(days=29), today),
        max_value=today,
        key="pa-analytics-range",
    )
scope = "mine"
with controls[1]:
    if user.is_admin:
        choice = st.radio(
            "Figures for", ["My sessions", "Everyone"], horizontal=True, key="pa-analytics-scope"
        )
        scope = "everyone" if choice == "Everyone" else "mine"

if not isinstance(picked, tuple | list) or len(picked) != 2:
    st.info("Pick the last day of the range too.")
    st.stop()
start, end = picked
since, until = fmt.date_range_bounds(start, end)
try:
    metrics = svc.session_metrics(
        user=None if scope == "everyone" else user, since=since, until=until
    )
except PAError as exc:
    ui.show_error(exc, "The figures could not be computed")
    st.stop()

with controls[2]:
    st.download_button(
        "Download metrics (CSV)",
        data=exports.metrics_csv(metrics, scope=scope),
        file_name=fmt.csv_file_name(f"metrics-{scope}"),
        mime="text/csv",
        on_click="ignore",
        icon=":material/download:",
        key="pa-analytics-csv",
    )

if metrics.messages == 0:
    st.info("No messages in this date range yet — chat a little and come back.")

row1 = st.columns(4)
row1[0].metric("Sessions", f"{metrics.sessions:,}", help="Sessions with messages in the range")
row1[1].metric("Messages", f"{metrics.messages:,}")
row1[2].metric("Active days", metrics.active_days)
row1[3].metric("Messages per session", f"{metrics.messages_per_session:.1f}")
row2 = st.columns(4)
row2[0].metric("Processing time (mean)", fmt.format_duration_ms(metrics.processing_time_mean_ms))
row2[1].metric("Processing time (p95)", fmt.format_duration_ms(metrics.processing_time_p95_ms))
row2[2].metric(
    "Error rate", f"{metrics.error_rate:.1%}", help=f"{metrics.errors} failed assistant repl(ies)"
)
row2[3].metric("Tokens", f"{metrics.total_tokens:,}")

if metrics.messages:
    days = pd.date_range(start, end, freq="D")
    daily = pd.DataFrame(exports.daily_rows(metrics))  # messages, so at least one day
    daily["day"] = pd.to_datetime(daily["day"])
    daily = daily.set_index("day").reindex(days)
    counts = daily[["sessions", "messages", "errors"]].fillna(0).astype("int64")
    latency = daily[["processing_time_mean_ms"]].astype("float64")

    left, right = st.columns(2)
    with left:
        st.subheader("Sessions and messages per day")
        st.line_chart(counts[["sessions", "messages"]], x_label="day", y_label="count")
    with right:
        st.subheader("Processing time per day")
        st.bar_chart(
            latency.rename(columns={"processing_time_mean_ms": "mean ms"}),
            x_label="day",
            y_label="ms",
        )
    left, right = st.columns(2)
    with left:
        st.subheader("Tool usage")
        if metrics.tool_usage:
            tools = pd.DataFrame(
                {"tool": list(metrics.tool_usage), "uses": list(metrics.tool_usage.values())}
            )
            st.bar_chart(tools, x="tool", y="uses", horizontal=True)
        else:
            st.caption("No tools used in this range.")
    with right:
        st.subheader("Errors per day")
        st.bar_chart(counts[["errors"]], y_label="errors")

if scope == "everyone" and metrics.per_user:
    st.subheader("Per user")
    st.dataframe(
        pd.DataFrame([u._asdict() for u in metrics.per_user]),
        hide_index=True,
        width="stretch",
    )
