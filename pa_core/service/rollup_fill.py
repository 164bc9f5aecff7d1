"""Filling the metric roll-ups of closed UTC days and hours (PostgreSQL).

Owner 0 holds everyone's aggregates (filled on the everyone path); owner U holds user U's own
(filled in U's transaction, markers in metric_user_buckets).

A bucket (a whole UTC day, or a UTC hour of a day not wholly covered) is *closed* when it
ended at least MARGIN ago and no other transaction still open began before it ended (so every
write that could land in it has committed). Closed buckets are filled lazily by the metrics
read; the triggers of migration 0009 delete a bucket's marker when a message of it is
inserted late, updated or deleted, and the next read fills it again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Connection, text

from pa_core.service.rollup_sql import EPOCH_DAY, GRAINS, LOCK_CLASS, created

MARGIN = timedelta(minutes=10)
DAY, HOUR = 24, 1
Bucket = tuple[int, datetime]  # (span in hours, naive UTC start)

_CLOSED = text(
    "SELECT timezone('UTC', now()), (SELECT timezone('UTC', min(xact_start)) "
    "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
    "AND backend_type = 'client backend' AND xact_start IS NOT NULL)"
)
_FIRST = "SELECT timezone('UTC', min(created_at)) FROM conversation_messages"
_MARKED = "SELECT span_hours, bucket FROM {markers} WHERE bucket >= :lo AND bucket < :hi"
_LOCK = text(
    f"SELECT d FROM unnest(CAST(:days AS int[])) AS d "
    f"WHERE pg_try_advisory_xact_lock({LOCK_CLASS}, d) ORDER BY d"
)
_MARK = (
    "INSERT INTO {markers} ({key}span_hours, bucket, filled_at) "
    "SELECT {owner}:span, b, now() FROM unnest(CAST(:starts AS timestamp[])) AS b "
    "ON CONFLICT ({key}span_hours, bucket) DO UPDATE SET filled_at = excluded.filled_at"
)

# A whole day's nearest-rank p50/p95 from its histogram, kept on its marker.
_DAY_RANKS = (
    "UPDATE {markers} AS m SET p50_ms = r.p50, p95_ms = r.p95 FROM ("
    "SELECT bucket, min(ms) FILTER (WHERE cum >= (50 * tot + 99) / 100) AS p50, "
    "min(ms) FILTER (WHERE cum >= (95 * tot + 99) / 100) AS p95 FROM ("
    "SELECT bucket, ms, sum(n) OVER (PARTITION BY bucket ORDER BY ms) AS cum, "
    "sum(n) OVER (PARTITION BY bucket) AS tot FROM metric_latency WHERE owner = :owner "
    "AND span_hours = :span AND bucket = ANY(CAST(:starts AS timestamp[]))) AS x "
    "GROUP BY bucket) AS r WHERE m.span_hours = :span AND m.bucket = r.bucket{mine}"
)


class Owner:
    """Whose roll-ups: 0 for everyone's, else one user's own (their markers, their messages)."""

    def __init__(self, user_id: int | None):
        """Everyone when `user_id` is None."""
        self.id = 0 if user_id is None else int(user_id)
        self.markers = "metric_buckets" if self.id == 0 else "metric_user_buckets"
        self.message_filter = "" if self.id == 0 else "user_id = :owner AND "

    def sql(self, template: str) -> str:
        """`template` with this owner's marker table and key."""
        key = "" if self.id == 0 else "user_id, "
        return template.format(
            markers=self.markers,
            key=key,
            owner="" if self.id == 0 else ":owner, ",
            mine="" if self.id == 0 else " AND m.user_id = :owner",
        )


def closed_before(conn: Connection) -> datetime:
    """The naive UTC instant before which every bucket is closed."""
    now, oldest = conn.execute(_CLOSED).one()
    limit = now - MARGIN
    return limit if oldest is None else min(limit, oldest)


def plan(
    conn: Connection, owner: Owner, since: datetime | None, until: datetime | None
) -> list[Bucket]:
    """The closed buckets covering as much of [since, until) as they can, oldest first."""
    limit = closed_before(conn)
    first = _FIRST + ("" if owner.id == 0 else " WHERE user_id = :owner")
    lo = (
        _naive(since)
        if since is not None
        else conn.execute(text(first), {"owner": owner.id}).scalar()
    )
    hi = limit if until is None else min(_naive(until), limit)
    if lo is None:
        return []
    t = _ceil_hour(lo)
    buckets: list[Bucket] = []
    while t + timedelta(hours=HOUR) <= hi:
        span = DAY if t.hour == 0 and t + timedelta(hours=DAY) <= hi else HOUR
        buckets.append((span, t))
        t += timedelta(hours=span)
    return buckets


def fill(conn: Connection, owner: Owner, buckets: list[Bucket]) -> list[Bucket]:
    """Fill the planned buckets not filled yet; returns the planned buckets now current."""
    if not buckets:
        return []
    planned = set(buckets)
    missing = planned - _marked(conn, owner, buckets)
    if missing:
        locked = _lock_days(conn, {_day_number(b) for _, b in missing})
        todo = {b for b in missing if _day_number(b[1]) in locked}
        todo -= _marked(conn, owner, sorted(todo))  # filled meanwhile by a concurrent read
        for span in (DAY, HOUR):
            _fill_span(conn, owner, span, sorted(b for s, b in todo if s == span))
        missing -= todo
    return [b for b in buckets if b not in missing]


def _fill_span(conn: Connection, owner: Owner, span: int, starts: list[datetime]) -> None:
    """Replace the roll-up rows of these buckets (all of one span) and mark them current."""
    if not starts:
        return
    unit = "day" if span == DAY else "hour"
    for run in _runs(starts, timedelta(hours=span)):
        params = {"owner": owner.id, "span": span, "starts": run, "lo": _aware(run[0])}
        params["hi"] = _aware(run[-1] + timedelta(hours=span))
        if span == DAY:  # hour buckets inside a filled day are no longer read
            _forget(conn, owner, HOUR, run[0], run[-1] + timedelta(hours=DAY))
        _forget(conn, owner, span, run[0], run[-1] + timedelta(hours=span))
        where = (
            f"{owner.message_filter}created_at >= :lo AND created_at < :hi AND "
            f"{created(unit)} = ANY(CAST(:starts AS timestamp[]))"
        )
        for table, (grain, columns) in GRAINS.items():
            cols = ", ".join(columns)
            conn.execute(
                text(
                    f"INSERT INTO {table} (owner, span_hours, bucket, {cols}) "
                    f"SELECT :owner, :span, k, {cols} FROM ({grain(created(unit), where)}) AS g"
                ),
                params,
            )
        conn.execute(text(owner.sql(_MARK)), params)
        if span == DAY:
            conn.execute(text(owner.sql(_DAY_RANKS)), params)


def _forget(conn: Connection, owner: Owner, span: int, lo: datetime, hi: datetime) -> None:
    """Delete the roll-up rows (and markers) of one span's buckets in [lo, hi)."""
    where = "span_hours = :span AND bucket >= :lo AND bucket < :hi"
    params = {"owner": owner.id, "span": span, "lo": lo, "hi": hi}
    for table in GRAINS:
        conn.execute(text(f"DELETE FROM {table} WHERE owner = :owner AND {where}"), params)
    conn.execute(text(f"DELETE FROM {owner.markers} WHERE {owner.message_filter}{where}"), params)


def _marked(conn: Connection, owner: Owner, buckets: list[Bucket]) -> set[Bucket]:
    """Those of `buckets` with a current marker."""
    if not buckets:
        return set()
    lo = min(b for _, b in buckets)
    hi = max(b for _, b in buckets) + timedelta(hours=DAY)
    sql = owner.sql(_MARKED) + ("" if owner.id == 0 else " AND user_id = :owner")
    rows = conn.execute(text(sql), {"lo": lo, "hi": hi, "owner": owner.id})
    return {(int(s), b) for s, b in rows} & set(buckets)


def _lock_days(conn: Connection, days: Iterable[int]) -> set[int]:
    """The days whose fill lock this transaction got (none waits: a busy day stays live)."""
    return {int(d) for (d,) in conn.execute(_LOCK, {"days": sorted(days)})}


def _runs(starts: list[datetime], step: timedelta) -> list[list[datetime]]:
    """Sorted bucket starts split into runs of consecutive buckets."""
    runs: list[list[datetime]] = []
    for start in starts:
        if runs and runs[-1][-1] + step == start:
            runs[-1].append(start)
        else:
            runs.append([start])
    return runs


def _day_number(start: datetime) -> int:
    return (start.date() - date.fromisoformat(EPOCH_DAY)).days


def _ceil_hour(t: datetime) -> datetime:
    floor = t.replace(minute=0, second=0, microsecond=0)
    return floor if floor == t else floor + timedelta(hours=1)


def _naive(t: datetime) -> datetime:
    """A naive UTC datetime (aware values converted)."""
    return t if t.tzinfo is None else t.astimezone(UTC).replace(tzinfo=None)


def _aware(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC)
