"""Metric roll-ups: aggregates of closed UTC days and hours, kept exact by invalidation
triggers on conversation_messages (PostgreSQL); the tables stay empty on SQLite

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from pa_core.models import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# A roll-up row's `owner` is 0 (everyone's aggregates) or the user whose own aggregates it
# holds: the everyone path sees every row, a user's transaction only that user's own.
SCOPED_USER = "NULLIF(current_setting('pa.user_id', true), '')::int"
EVERYONE = "current_setting('pa.scope', true) = 'everyone'"
OWNED = f"(owner = {SCOPED_USER} OR {EVERYONE})"
OWN_MARKERS = f"(user_id = {SCOPED_USER} OR {EVERYONE})"
POLICY = "pa_isolation"
DETAIL_TABLES = ("metric_sessions", "metric_latency", "metric_errors", "metric_tools")
PROTECTED = (*DETAIL_TABLES, "metric_user_buckets")
# pg_advisory_xact_lock(LOCK_CLASS, day number): a fill of a day excludes its invalidators.
LOCK_CLASS = 7309
DAY = "date(timezone('UTC', {col}))"
# The start of the transaction's UTC hour: rows older than it may sit in a rolled-up bucket.
HOUR_START = "timezone('UTC', date_trunc('hour', timezone('UTC', now())))"
# The two buckets a row counts in: its UTC day (span 24) and its UTC hour (span 1), in the
# everyone markers and in the markers of the row's user.
BUCKETS_OF = """((span_hours = 24 AND bucket = date_trunc('day', timezone('UTC', {col})))
           OR (span_hours = 1 AND bucket = date_trunc('hour', timezone('UTC', {col}))))"""
FORGET = (
    f"DELETE FROM metric_buckets WHERE {BUCKETS_OF};\n"
    f"    DELETE FROM metric_user_buckets WHERE user_id = {{uid}} AND {BUCKETS_OF}"
)

INVALIDATE_ROW = f"""
CREATE FUNCTION pa_metric_invalidate_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(
        {LOCK_CLASS}, {DAY.format(col="NEW.created_at")} - DATE '2000-01-01');
    {FORGET.format(col="NEW.created_at", uid="NEW.user_id")};
    RETURN NULL;
END $$"""


def _invalidate_rows(name: str, rows: str) -> str:
    """A statement-level function: the buckets of the changed (older) rows lose their roll-up."""
    return f"""
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
    FOR r IN
        SELECT DISTINCT timezone('UTC', date_trunc('hour', timezone('UTC', created_at))) AS t,
            user_id AS u
        FROM ({rows}) AS changed
        WHERE created_at < {HOUR_START} ORDER BY 1, 2
    LOOP
        PERFORM pg_advisory_xact_lock_shared(
            {LOCK_CLASS}, {DAY.format(col="r.t")} - DATE '2000-01-01');
        {FORGET.format(col="r.t", uid="r.u")};
    END LOOP;
    RETURN NULL;
END $$"""


# Row-level: a rating or an edit of a recent message (the usual update) calls no function.
INVALIDATE_UPDATE = f"""
CREATE FUNCTION pa_metric_invalidate_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(
        {LOCK_CLASS}, {DAY.format(col="OLD.created_at")} - DATE '2000-01-01');
    {FORGET.format(col="OLD.created_at", uid="OLD.user_id")};
    IF NEW.created_at IS DISTINCT FROM OLD.created_at OR NEW.user_id <> OLD.user_id THEN
        PERFORM pg_advisory_xact_lock_shared(
            {LOCK_CLASS}, {DAY.format(col="NEW.created_at")} - DATE '2000-01-01');
        {FORGET.format(col="NEW.created_at", uid="NEW.user_id")};
    END IF;
    RETURN NULL;
END $$"""
INVALIDATE_DELETE = _invalidate_rows(
    "pa_metric_invalidate_delete", "SELECT created_at, user_id FROM old_rows"
)

INVALIDATE_ALL = """
CREATE FUNCTION pa_metric_invalidate_all() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM metric_buckets;
    DELETE FROM metric_user_buckets;
    RETURN NULL;
END $$"""

TRIGGERS = [
    # Appends carry created_at of the transaction's own UTC hour: the WHEN keeps them free.
    # Deletes are statement-level: a session's or a user's delete is one call, not one per row.
    "CREATE TRIGGER pa_metric_insert AFTER INSERT ON conversation_messages FOR EACH ROW "
    f"WHEN (NEW.created_at < {HOUR_START}) EXECUTE FUNCTION pa_metric_invalidate_row()",
    "CREATE TRIGGER pa_metric_update AFTER UPDATE ON conversation_messages FOR EACH ROW "
    f"WHEN (OLD.created_at < {HOUR_START} OR NEW.created_at < {HOUR_START}) "
    "EXECUTE FUNCTION pa_metric_invalidate_update()",
    "CREATE TRIGGER pa_metric_delete AFTER DELETE ON conversation_messages "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION pa_metric_invalidate_delete()",
    "CREATE TRIGGER pa_metric_truncate AFTER TRUNCATE ON conversation_messages "
    "FOR EACH STATEMENT EXECUTE FUNCTION pa_metric_invalidate_all()",
]
DROP = [
    "DROP TRIGGER IF EXISTS pa_metric_truncate ON conversation_messages",
    "DROP TRIGGER IF EXISTS pa_metric_delete ON conversation_messages",
    "DROP TRIGGER IF EXISTS pa_metric_update ON conversation_messages",
    "DROP TRIGGER IF EXISTS pa_metric_insert ON conversation_messages",
    "DROP FUNCTION IF EXISTS pa_metric_invalidate_all()",
    "DROP FUNCTION IF EXISTS pa_metric_invalidate_delete()",
    "DROP FUNCTION IF EXISTS pa_metric_invalidate_update()",
    "DROP FUNCTION IF EXISTS pa_metric_invalidate_row()",
]


def _count(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer(), nullable=False)


def _bucket() -> list[sa.Column]:
    """The bucket key: its owner (0: everyone), its span (24: a day, 1: an hour), its start."""
    return [
        sa.Column("owner", sa.Integer(), primary_key=True),
        *_span(),
    ]


def _span() -> list[sa.Column]:
    """A bucket's span in hours and its start (naive UTC)."""
    return [
        sa.Column("span_hours", sa.SmallInteger(), primary_key=True),
        sa.Column("bucket", sa.DateTime(), primary_key=True),
    ]


def _marker() -> list[sa.Column]:
    """When a bucket was filled, and a whole day's nearest-rank p50/p95 (NULL: no timed reply)."""
    return [
        sa.Column("filled_at", UTCDateTime(), nullable=False),
        sa.Column("p50_ms", sa.Integer(), nullable=True),
        sa.Column("p95_ms", sa.Integer(), nullable=True),
    ]


def upgrade() -> None:
    """The roll-up tables (both backends, empty: filled on first use); PG: policies, triggers."""
    op.create_table(
        "metric_buckets",
        *_span(),
        *_marker(),
    )
    op.create_table(
        "metric_user_buckets",
        sa.Column("user_id", sa.Integer(), primary_key=True),
        *_span(),
        *_marker(),
    )
    op.create_table(
        "metric_sessions",
        *_bucket(),
        sa.Column("session_id", sa.String(36), primary_key=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        *(_count(c) for c in ("messages", "user_messages", "assistant_messages", "errors")),
        sa.Column("tokens", sa.BigInteger(), nullable=False),
        *(_count(c) for c in ("token_messages", "feedback_up", "feedback_down")),
        sa.Column("time_sum", sa.BigInteger(), nullable=False),
        _count("time_count"),
    )
    op.create_table(
        "metric_latency",
        *_bucket(),
        sa.Column("ms", sa.Integer(), primary_key=True),
        _count("n"),
    )
    op.create_table(
        "metric_errors",
        *_bucket(),
        sa.Column("line_key", sa.String(32), primary_key=True),
        sa.Column("first_line", sa.Text(), nullable=False),
        _count("n"),
    )
    op.create_table(
        "metric_tools",
        *_bucket(),
        sa.Column("tool", sa.Text(), primary_key=True),
        _count("n"),
    )
    op.create_index("ix_sessions_created_at", "conversation_sessions", ["created_at"])
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite computes metrics live: no roll-up is ever written there
    for table in PROTECTED:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        policy = OWN_MARKERS if table == "metric_user_buckets" else OWNED
        op.execute(f"CREATE POLICY {POLICY} ON {table} USING {policy} WITH CHECK {policy}")
    for statement in (
        INVALIDATE_ROW,
        INVALIDATE_UPDATE,
        INVALIDATE_DELETE,
        INVALIDATE_ALL,
        *TRIGGERS,
    ):
        op.execute(statement)


def downgrade() -> None:
    """Drop the triggers, their functions and the roll-up tables."""
    if op.get_bind().dialect.name == "postgresql":
        for statement in DROP:
            op.execute(statement)
    for table in (*reversed(PROTECTED), "metric_buckets"):
        op.drop_table(table)
    op.drop_index("ix_sessions_created_at", table_name="conversation_sessions")
