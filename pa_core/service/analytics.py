"""Session metrics computed in SQL over indexed columns (messages created in a date range).

Percentiles are nearest-rank (the value at rank ceil(p * n)), the same rule on both backends.
Everyone's metrics on PostgreSQL merge the roll-ups of closed days and hours with the live
rest of the range (rollup_fill, rollup_read); per-user metrics and SQLite stay live.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    case,
    distinct,
    func,
    literal,
    select,
    text,
    true,
)

from pa_core.models import UTC
from pa_core.records import DailyMetrics, SessionMetrics, UserMetrics
from pa_core.service import rollup_fill, rollup_read
from pa_core.service.tables import MESSAGES as M
from pa_core.service.tables import SESSIONS as S
from pa_core.service.tables import USERS as U

ERROR_LINES_READ = 500  # distinct first lines of error messages folded into kinds
KIND_MAX_CHARS = 60


def session_metrics(
    conn: Connection,
    *,
    user_id: int | None,
    since: datetime | None,
    until: datetime | None,
    sqlite: bool,
    rollups: bool = True,
) -> SessionMetrics:
    """Totals, latency mean/p95 (nearest rank), errors, tokens, tools and a per-day series."""
    since, until = _aware(since), _aware(until)
    if rollups and not sqlite:
        return _rolled_up(conn, user_id, since, until)
    where = _message_filter(user_id, since, until)
    day = (
        func.substr(M.c.created_at, 1, 10)
        if sqlite
        else func.date(func.timezone("UTC", M.c.created_at))
    )
    totals = _totals(conn, where, day)
    sessions, asst_msgs, errors = totals["sessions"], totals["assistant_messages"], totals["errors"]
    overall = _percentiles(conn, where, None).get(None, (None, None))
    return SessionMetrics(
        since=since,
        until=until,
        sessions_created=_sessions_created(conn, user_id=user_id, since=since, until=until),
        messages_per_session=round(totals["messages"] / sessions, 2) if sessions else 0.0,
        processing_time_p95_ms=overall[1],
        processing_time_p50_ms=overall[0],
        errors_by_kind=_errors_by_kind(conn, where, sqlite=sqlite),
        error_rate=round(errors / asst_msgs, 4) if asst_msgs else 0.0,
        tool_usage=_tool_usage(conn, where, sqlite=sqlite),
        daily=_daily(conn, where, day, _percentiles(conn, where, day)),
        per_user=None if user_id is not None else _per_user(conn, where),
        **totals,
    )


def _rolled_up(
    conn: Connection, user_id: int | None, since: datetime | None, until: datetime | None
) -> SessionMetrics:
    """The metrics from the current roll-ups (filled here when missing) and the rest live."""
    owner = rollup_fill.Owner(user_id)
    conn.execute(text("SET LOCAL work_mem = '64MB'"))  # this transaction only: no spills
    rolled = rollup_fill.fill(conn, owner, rollup_fill.plan(conn, owner, since, until))
    scope = rollup_read.Scope(owner, since, until, rolled)
    users, days = rollup_read.users(conn, scope), rollup_read.days(conn, scope)
    t = {c: sum(getattr(d, c) for d in days) for c in SUMMED}  # sums add up over the days
    t["sessions"] = sum(u[1] for u in users)  # a session belongs to one user: they add up
    ranks = rollup_read.percentiles(conn, owner, scope)
    p50, p95 = ranks.get(None, (None, None))
    daily = rollup_read.daily(days, ranks)
    mean = days[0].mean_all if days else None
    return SessionMetrics(
        since=since,
        until=until,
        sessions=t["sessions"],
        sessions_created=_sessions_created(conn, user_id=user_id, since=since, until=until),
        messages=t["messages"],
        user_messages=t["user_messages"],
        assistant_messages=t["assistant_messages"],
        active_days=len(daily),
        messages_per_session=round(t["messages"] / t["sessions"], 2) if t["sessions"] else 0.0,
        processing_time_mean_ms=None if mean is None else round(float(mean), 1),
        processing_time_p95_ms=p95,
        errors=t["errors"],
        error_rate=round(t["errors"] / t["assistant_messages"], 4)
        if t["assistant_messages"]
        else 0.0,
        total_tokens=t["tokens"],
        tool_usage=rollup_read.tool_usage(conn, scope),
        daily=daily,
        per_user=None if user_id is not None else rollup_read.users_of(users),
        feedback_up=t["feedback_up"],
        feedback_down=t["feedback_down"],
        processing_time_p50_ms=p50,
        token_messages=t["token_messages"],
        errors_by_kind=_fold_kinds(rollup_read.error_lines(conn, scope)),
    )


SUMMED = (
    "messages", "user_messages", "assistant_messages", "errors", "tokens", "token_messages",
    "feedback_up", "feedback_down",
)  # fmt: skip


def _totals(conn: Connection, where: ColumnElement, day: ColumnElement) -> dict[str, Any]:
    """The range's counts, mean latency and tokens, keyed by their SessionMetrics field."""
    is_assistant = M.c.role == "assistant"
    row = conn.execute(
        select(
            func.count(),
            func.count(distinct(M.c.session_id)),
            func.sum(case((M.c.role == "user", 1), else_=0)),
            func.sum(case((is_assistant, 1), else_=0)),
            func.count(distinct(day)),
            func.avg(case((is_assistant, M.c.processing_time_ms))),
            func.sum(case((M.c.has_error.is_(True), 1), else_=0)),
            func.coalesce(func.sum(M.c.token_count), 0),
            func.sum(case((M.c.feedback == 1, 1), else_=0)),
            func.sum(case((M.c.feedback == -1, 1), else_=0)),
            func.count(M.c.token_count),
        ).where(where)
    ).one()
    messages, sessions, user_msgs, asst_msgs, active_days, mean_ms, errors, tokens = row[:8]
    return {
        "sessions": sessions,
        "messages": messages,
        "user_messages": user_msgs or 0,
        "assistant_messages": asst_msgs or 0,
        "active_days": active_days,
        "processing_time_mean_ms": None if mean_ms is None else round(float(mean_ms), 1),
        "errors": errors or 0,
        "total_tokens": int(tokens or 0),
        "feedback_up": int(row[8] or 0),
        "feedback_down": int(row[9] or 0),
        "token_messages": int(row[10] or 0),
    }


def _sessions_created(
    conn: Connection, *, user_id: int | None, since: datetime | None, until: datetime | None
) -> int:
    """How many sessions were created in the range."""
    created = select(func.count()).select_from(S)
    if user_id is not None:
        created = created.where(S.c.user_id == user_id)
    if since is not None:
        created = created.where(S.c.created_at >= since)
    if until is not None:
        created = created.where(S.c.created_at < until)
    return conn.execute(created).scalar_one()


def _daily(
    conn: Connection,
    where: ColumnElement,
    day: ColumnElement,
    percentiles: dict[Any, tuple[float | None, float | None]],
) -> list[DailyMetrics]:
    """The per-day (UTC) series of the range, oldest day first (days with messages only)."""
    rows = conn.execute(
        select(
            day.label("day"),
            func.count(distinct(M.c.session_id)),
            func.count(),
            func.sum(case((M.c.has_error.is_(True), 1), else_=0)),
            func.avg(case((M.c.role == "assistant", M.c.processing_time_ms))),
            func.sum(case((M.c.feedback == 1, 1), else_=0)),
            func.sum(case((M.c.feedback == -1, 1), else_=0)),
            func.sum(M.c.token_count),
        )
        .where(where)
        .group_by(day)
        .order_by(day)
    ).all()
    series = []
    for r in rows:
        p50, p95 = percentiles.get(str(r[0])[:10], (None, None))
        series.append(
            DailyMetrics(
                _as_date(r[0]),
                r[1],
                r[2],
                r[3] or 0,
                None if r[4] is None else round(float(r[4]), 1),
                feedback_up=int(r[5] or 0),
                feedback_down=int(r[6] or 0),
                processing_time_p50_ms=p50,
                processing_time_p95_ms=p95,
                tokens=None if r[7] is None else int(r[7]),
            )
        )
    return series


def _percentiles(
    conn: Connection, where: ColumnElement, day: ColumnElement | None
) -> dict[Any, tuple[float | None, float | None]]:
    """Nearest-rank p50 and p95 of assistant processing time, per day (or overall: key None).

    One window-function query on both backends: each reply ranked within its group, then the
    replies at rank ceil(0.5 n) and ceil(0.95 n) picked (integer arithmetic, no ceil()).
    """
    timed = and_(where, M.c.role == "assistant", M.c.processing_time_ms.is_not(None))
    group = [] if day is None else [day]
    ms = M.c.processing_time_ms
    ranked = (
        select(
            (day if day is not None else literal(None)).label("g"),
            ms.label("ms"),
            func.row_number().over(partition_by=group or None, order_by=ms).label("rn"),
            func.count().over(partition_by=group or None).label("n"),
        )
        .where(timed)
        .subquery()
    )
    r = ranked.c
    rows = conn.execute(
        select(
            r.g,
            func.max(case((r.rn == (50 * r.n + 99) // 100, r.ms))),
            func.max(case((r.rn == (95 * r.n + 99) // 100, r.ms))),
        ).group_by(r.g)
    ).all()
    return {
        (None if day is None else str(g)[:10]): (_float(p50), _float(p95)) for g, p50, p95 in rows
    }


def _errors_by_kind(conn: Connection, where: ColumnElement, *, sqlite: bool) -> dict[str, int]:
    """Failed messages by kind (the first line of the error, up to its first colon)."""
    detail = func.coalesce(M.c.error_message, "")
    if sqlite:
        newline = func.char(10)
        first = func.substr(detail, 1, func.instr(detail.concat(newline), newline) - 1)
    else:
        first = func.split_part(detail, "\n", 1)
    rows = conn.execute(
        select(first, func.count())
        .where(where, M.c.has_error.is_(True))
        .group_by(first)
        .order_by(func.count().desc(), first)
        .limit(ERROR_LINES_READ)
    ).all()
    return _fold_kinds(rows)


def _fold_kinds(rows: Any) -> dict[str, int]:
    """(first line, count) rows folded into kinds, most frequent first."""
    kinds: dict[str, int] = {}
    for line, count in rows:
        kind = error_kind(line)
        kinds[kind] = kinds.get(kind, 0) + int(count)
    return dict(sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0])))


def error_kind(first_line: str | None) -> str:
    """'RateLimitError: 429 ...' -> 'RateLimitError'; 'calculator failed: ...' likewise."""
    line = " ".join((first_line or "").split())
    if not line:
        return "unknown error"
    head = line.split(":", 1)[0].strip()
    kind = head if head and len(head) <= KIND_MAX_CHARS else line
    return kind if len(kind) <= KIND_MAX_CHARS else kind[: KIND_MAX_CHARS - 1] + "…"


def _per_user(conn: Connection, where: ColumnElement) -> list[UserMetrics]:
    """Each user's totals in the range, most messages first (the admin breakdown)."""
    rows = conn.execute(
        select(
            U.c.username,
            func.count(distinct(M.c.session_id)),
            func.count(),
            func.sum(case((M.c.has_error.is_(True), 1), else_=0)),
            func.coalesce(func.sum(M.c.token_count), 0),
        )
        .select_from(M.join(U, U.c.id == M.c.user_id))
        .where(where)
        .group_by(U.c.username)
        .order_by(func.count().desc(), U.c.username)
    )
    return [UserMetrics(r[0], r[1], r[2], r[3] or 0, r[4] or 0) for r in rows]


def _message_filter(
    user_id: int | None, since: datetime | None, until: datetime | None
) -> ColumnElement:
    """Messages of the user (everyone when None) created in [since, until)."""
    clauses = []
    if user_id is not None:
        clauses.append(M.c.user_id == user_id)
    if since is not None:
        clauses.append(M.c.created_at >= since)
    if until is not None:
        clauses.append(M.c.created_at < until)
    return and_(True, *clauses)


def _tool_usage(conn: Connection, where: ColumnElement, *, sqlite: bool) -> dict[str, int]:
    """How often each tool was used by assistant messages in range, most used first."""
    fn = func.json_each if sqlite else func.jsonb_array_elements_text
    tools = fn(M.c.tools_used).table_valued("value").alias("j")
    rows = conn.execute(
        select(tools.c.value, func.count())
        .select_from(M.join(tools, true()))
        .where(where, M.c.role == "assistant")
        .group_by(tools.c.value)
        .order_by(func.count().desc(), tools.c.value)
    ).all()
    return {str(r[0]): int(r[1]) for r in rows}


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _aware(value: datetime | date | None) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _as_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
