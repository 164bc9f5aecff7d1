"""The SQL of the metric roll-ups (PostgreSQL): one grain query per roll-up table.

Each grain query groups the messages matching a WHERE clause by a key expression (a bucket when
a roll-up is filled, the UTC day when the open part of a range is read live), so the stored rows
and the live rows have the same shape and merge exactly.
"""

from __future__ import annotations

# pg_advisory_xact_lock(LOCK_CLASS, day number): the same key as migration 0009's triggers.
LOCK_CLASS = 7309
EPOCH_DAY = "2000-01-01"

# Counts as int and sums as bigint, the column types: the merge then sums int columns (fast).
SESSION_SUMS = (
    ("messages", "count(*)::int"),
    ("user_messages", "(count(*) FILTER (WHERE role = 'user'))::int"),
    ("assistant_messages", "(count(*) FILTER (WHERE role = 'assistant'))::int"),
    ("errors", "(count(*) FILTER (WHERE has_error IS TRUE))::int"),
    ("tokens", "coalesce(sum(token_count), 0)::bigint"),
    ("token_messages", "count(token_count)::int"),
    ("feedback_up", "(count(*) FILTER (WHERE feedback = 1))::int"),
    ("feedback_down", "(count(*) FILTER (WHERE feedback = -1))::int"),
    (
        "time_sum",
        "coalesce(sum(processing_time_ms) FILTER (WHERE role = 'assistant'), 0)::bigint",
    ),
    ("time_count", "(count(processing_time_ms) FILTER (WHERE role = 'assistant'))::int"),
)
SESSION_COLUMNS = tuple(name for name, _ in SESSION_SUMS)


def created(unit: str) -> str:
    """The naive UTC start of the day or hour of a message."""
    return f"date_trunc('{unit}', timezone('UTC', created_at))"


def session_grain(key: str, where: str) -> str:
    """Per (key, session): the session's counts and sums."""
    sums = ", ".join(f"{expr} AS {name}" for name, expr in SESSION_SUMS)
    return (
        f"SELECT {key} AS k, session_id, user_id, {sums} FROM conversation_messages "
        f"WHERE {where} GROUP BY 1, 2, 3"
    )


def latency_grain(key: str, where: str) -> str:
    """Per (key, exact processing time): how many replies took it."""
    return (
        f"SELECT {key} AS k, processing_time_ms AS ms, count(*)::int AS n "
        "FROM conversation_messages "
        f"WHERE ({where}) AND role = 'assistant' AND processing_time_ms IS NOT NULL "
        "GROUP BY 1, 2"
    )


def error_grain(key: str, where: str) -> str:
    """Per (key, first line of the error): how many failed messages had it."""
    return (
        "SELECT k, md5(line) AS line_key, line AS first_line, count(*)::int AS n FROM ("
        f"SELECT {key} AS k, split_part(coalesce(error_message, ''), E'\\n', 1) AS line "
        f"FROM conversation_messages WHERE ({where}) AND has_error IS TRUE) AS e GROUP BY 1, 2, 3"
    )


def tool_grain(key: str, where: str) -> str:
    """Per (key, tool): how often the replies used it."""
    return (
        f"SELECT {key} AS k, coalesce(j.value, 'None') AS tool, count(*)::int AS n "
        "FROM conversation_messages CROSS JOIN LATERAL jsonb_array_elements_text(tools_used) "
        f"AS j(value) WHERE ({where}) AND role = 'assistant' GROUP BY 1, 2"
    )


# table -> (its grain query, the columns it stores after span_hours and bucket)
GRAINS = {
    "metric_sessions": (session_grain, ("session_id", "user_id", *SESSION_COLUMNS)),
    "metric_latency": (latency_grain, ("ms", "n")),
    "metric_errors": (error_grain, ("line_key", "first_line", "n")),
    "metric_tools": (tool_grain, ("tool", "n")),
}
