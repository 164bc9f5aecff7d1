"""Session metrics from the roll-ups of closed buckets plus the live rest (PostgreSQL).

Every figure is merged from rows of one shape: the stored rows of the current buckets of the
range and the same grain computed live over the rest of [since, until) (its open tail and the
edges that are not whole hours). Sessions are counted over (day, session) rows, percentiles
ranked over merged histograms of exact values, means divided in SQL like avg(): the result
equals the live computation of pa_core.service.analytics on the same data.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, text

from pa_core.records import DailyMetrics, UserMetrics
from pa_core.service.rollup_fill import DAY, Bucket, Owner
from pa_core.service.rollup_sql import (
    SESSION_COLUMNS,
    created,
    error_grain,
    latency_grain,
    session_grain,
    tool_grain,
)

ERROR_LINES_READ = 500  # as in analytics: distinct first lines folded into kinds
ROLLED_DAYS = "owner = :owner AND span_hours = 24 AND bucket = ANY(CAST(:days AS timestamp[]))"
ROLLED_HOURS = "owner = :owner AND span_hours = 1 AND bucket = ANY(CAST(:hours AS timestamp[]))"
ROLLED = f"(({ROLLED_DAYS}) OR ({ROLLED_HOURS}))"
DAY_KEY = created("day")


class Scope:
    """The SQL pieces of one read: the current buckets and the live intervals around them."""

    def __init__(
        self, owner: Owner, since: datetime | None, until: datetime | None, rolled: list[Bucket]
    ):
        """Split [since, until) into the rolled buckets and the intervals read live."""
        self.params: dict[str, Any] = {
            "owner": owner.id,
            "days": [b for s, b in rolled if s == DAY],
            "hours": [b for s, b in rolled if s != DAY],
        }
        clauses = []
        for i, (lo, hi) in enumerate(_live_intervals(since, until, rolled)):
            parts = []
            if lo is not None:
                parts.append(f"created_at >= :lo{i}")
                self.params[f"lo{i}"] = lo
            if hi is not None:
                parts.append(f"created_at < :hi{i}")
                self.params[f"hi{i}"] = hi
            clauses.append("(" + (" AND ".join(parts) or "true") + ")")
        self.live = f"{owner.message_filter}(" + (" OR ".join(clauses) or "false") + ")"

    def session_rows(self, columns: tuple[str, ...]) -> str:
        """(day, session_id, user_id, `columns`...) rows of the whole range (a session may have
        several rows in a day: one per rolled hour and one live)."""
        return f"{_stored_sessions(columns, ROLLED)} UNION ALL {self._live_sessions(columns)}"

    def sessions(self, columns: tuple[str, ...] = SESSION_COLUMNS) -> str:
        """(day, session_id, user_id, `columns`...) rows of the whole range, one per day and
        session.

        A rolled-up day has one row per session already; the hours and the live part of a day
        are summed per session here, so a day's sessions are its rows.
        """
        summed = ", ".join(f"sum({c}) AS {c}" for c in columns)
        return (
            f"{_stored_sessions(columns, ROLLED_DAYS)} "
            f"UNION ALL SELECT k, session_id, user_id, {summed} FROM ("
            f"{_stored_sessions(columns, ROLLED_HOURS)} UNION ALL {self._live_sessions(columns)}"
            ") AS p GROUP BY k, session_id, user_id"
        )

    def _live_sessions(self, columns: tuple[str, ...]) -> str:
        """The live part's (day, session_id, user_id, `columns`...) rows."""
        return (
            f"SELECT k, session_id, user_id, {', '.join(columns)} "
            f"FROM ({session_grain(DAY_KEY, self.live)}) AS l"
        )

    def stored(self, table: str, columns: str, grain: Any, live: str = "") -> str:
        """(day, columns...) rows of one roll-up table and its live grain."""
        live_columns = columns.split(", ", 1)[1] if live else columns
        return (
            f"SELECT date_trunc('day', bucket) AS k, {columns} FROM {table} WHERE {ROLLED} "
            f"UNION ALL SELECT k, {live}{live_columns} FROM ({grain(DAY_KEY, self.live)}) AS l"
        )


def _stored_sessions(columns: tuple[str, ...], where: str) -> str:
    """(day, session_id, user_id, `columns`...) rows of metric_sessions matching `where`."""
    return (
        f"SELECT date_trunc('day', bucket) AS k, session_id, user_id, {', '.join(columns)} "
        f"FROM metric_sessions WHERE {where}"
    )


def _live_intervals(
    since: datetime | None, until: datetime | None, rolled: list[Bucket]
) -> list[tuple[datetime | None, datetime | None]]:
    """[since, until) minus the rolled buckets (aware UTC bounds, None: unbounded)."""
    out: list[tuple[datetime | None, datetime | None]] = []
    cursor = since
    for span, start in sorted(rolled, key=lambda b: b[1]):
        lo, hi = start.replace(tzinfo=UTC), start.replace(tzinfo=UTC) + timedelta(hours=span)
        if cursor is None or cursor < lo:
            out.append((cursor, lo))
        cursor = hi
    if until is None or cursor is None or cursor < until:
        out.append((cursor, until))
    return out


def users(conn: Connection, scope: Scope) -> list[Any]:
    """Per user, most messages first: (username, distinct sessions, messages, errors, tokens).

    A user deleted since has no username (their sessions still count in the totals).
    """
    columns = ("messages", "errors", "tokens")
    sums = ", ".join(f"sum({c})::bigint AS {c}" for c in columns)
    sql = (
        "SELECT u.username, s.sessions, s.messages, s.errors, s.tokens FROM ("
        f'SELECT user_id, count(DISTINCT session_id COLLATE "C") AS sessions, {sums} '
        f"FROM ({scope.session_rows(columns)}) AS g GROUP BY user_id) AS s "
        "LEFT JOIN users AS u ON u.id = s.user_id ORDER BY s.messages DESC, u.username"
    )
    return conn.execute(text(sql), scope.params).all()


def days(conn: Connection, scope: Scope) -> list[Any]:
    """Per day, oldest first: sessions, the sums (bigint), the day's mean and the whole range's
    mean (`mean_all`, on every row)."""
    sums = ", ".join(f"sum({c})::bigint AS {c}" for c in SESSION_COLUMNS)
    sql = (
        f"WITH d AS (SELECT k, count(*) AS sessions, {sums}, "
        "sum(time_sum)::numeric / nullif(sum(time_count), 0) AS mean "
        f"FROM ({scope.sessions()}) AS g GROUP BY k) "
        "SELECT d.*, (sum(time_sum) OVER ())::numeric / nullif(sum(time_count) OVER (), 0) "
        "AS mean_all FROM d ORDER BY k"
    )
    return conn.execute(text(sql), scope.params).all()


def daily(rows: list[Any], ranks: dict[Any, tuple]) -> list[DailyMetrics]:
    """The per-day series (days with messages), oldest first."""
    series = []
    for r in rows:
        p50, p95 = ranks.get(r.k.date(), (None, None))
        series.append(
            DailyMetrics(
                r.k.date(),
                int(r.sessions),
                int(r.messages),
                int(r.errors),
                None if r.mean is None else round(float(r.mean), 1),
                feedback_up=int(r.feedback_up),
                feedback_down=int(r.feedback_down),
                processing_time_p50_ms=p50,
                processing_time_p95_ms=p95,
                tokens=None if not r.token_messages else int(r.tokens),
            )
        )
    return series


def percentiles(
    conn: Connection, owner: Owner, scope: Scope
) -> dict[Any, tuple[float | None, float | None]]:
    """Nearest-rank p50/p95 per day (keyed by date) and overall (key None).

    A whole rolled-up day's pair is stored on its marker; the other days (hours and the live
    part) and the whole range are ranked over their merged histograms.
    """
    pick = (
        "min(ms) FILTER (WHERE cum >= (50 * tot + 99) / 100), "
        "min(ms) FILTER (WHERE cum >= (95 * tot + 99) / 100)"
    )
    rows = scope.stored("metric_latency", "span_hours AS s, ms, n", latency_grain, live="0 AS s, ")
    sql = (
        f"WITH h AS ({rows}), "
        "hd AS (SELECT k, ms, sum(n)::bigint AS n FROM h WHERE s <> 24 GROUP BY k, ms), "
        "rd AS (SELECT k, ms, (sum(n) OVER (PARTITION BY k ORDER BY ms))::bigint AS cum, "
        "(sum(n) OVER (PARTITION BY k))::bigint AS tot FROM hd), "
        "ho AS (SELECT ms, sum(n)::bigint AS n FROM h GROUP BY ms), "
        "ro AS (SELECT ms, (sum(n) OVER (ORDER BY ms))::bigint AS cum, "
        "(sum(n) OVER ())::bigint AS tot FROM ho) "
        f"SELECT k, {pick} FROM rd GROUP BY k "
        f"UNION ALL SELECT NULL, {pick} FROM ro "
        f"UNION ALL SELECT bucket, p50_ms, p95_ms FROM {owner.markers} "
        f"WHERE {owner.message_filter}span_hours = 24 AND bucket = ANY(CAST(:days AS timestamp[])) "
        "AND p50_ms IS NOT NULL"
    )
    out: dict[Any, tuple[float | None, float | None]] = {}
    for k, p50, p95 in conn.execute(text(sql), scope.params):
        key = None if k is None else k.date()
        out[key] = (_float(p50), _float(p95))
    return out


def error_lines(conn: Connection, scope: Scope) -> list[Any]:
    """(first line, count) of failed messages, most frequent first (at most 500 lines)."""
    rows = scope.stored("metric_errors", "first_line, n", error_grain)
    sql = (
        f"SELECT first_line, sum(n) FROM ({rows}) AS e GROUP BY first_line "
        f"ORDER BY sum(n) DESC, first_line LIMIT {ERROR_LINES_READ}"
    )
    return conn.execute(text(sql), scope.params).all()


def tool_usage(conn: Connection, scope: Scope) -> dict[str, int]:
    """How often each tool was used, most used first."""
    rows = scope.stored("metric_tools", "tool, n", tool_grain)
    sql = f"SELECT tool, sum(n) FROM ({rows}) AS t GROUP BY tool ORDER BY sum(n) DESC, tool"
    return {str(t): int(n) for t, n in conn.execute(text(sql), scope.params)}


def users_of(rows: list[Any]) -> list[UserMetrics]:
    """The per-user breakdown (users that still exist), in the order read."""
    return [UserMetrics._make(r) for r in rows if r[0] is not None]


def _float(value: Any) -> float | None:
    return None if value is None else float(value)
