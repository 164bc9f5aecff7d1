"""The session statistics tool: counts, tools, tokens, reply times and recent questions."""

from __future__ import annotations

from collections import Counter
from typing import Any

from pa_core.agent.tools.base import Tool, ToolContext, one_line
from pa_core.errors import PAError

SESSION_STATS = "session_stats"
MAX_STATS_MESSAGES = 1000


def _stored_history(ctx: ToolContext) -> tuple[list[dict[str, Any]], str]:
    """The session's messages from the database, else the turn's context (and which it was)."""
    try:
        records = ctx.service.get_messages(ctx.session_id, user=ctx.user, limit=MAX_STATS_MESSAGES)
    except PAError:
        # The session exists only in memory (not yet saved): use what the turn has.
        return ctx.history, "in-memory context (the database is not reachable)"
    history = [
        {
            "role": m.role,
            "content": m.content,
            "tools_used": m.tools_used or [],
            "has_error": m.has_error,
            "token_count": m.token_count,
            "processing_time_ms": m.processing_time_ms,
            "created_at": m.created_at,
        }
        for m in records
    ]
    return history, "database"


def _assistant_lines(assistant_msgs: list[dict[str, Any]]) -> list[str]:
    """Tools used, tokens reported and the average reply time of the assistant's messages."""
    lines = []
    tools = Counter(t for m in assistant_msgs for t in (m.get("tools_used") or []))
    if tools:
        used = ", ".join(f"{name} ×{n}" for name, n in tools.most_common())
        lines.append(f"Tools used: {used}.")
    tokens = sum(m.get("token_count") or 0 for m in assistant_msgs)
    if tokens:
        lines.append(f"Tokens reported: {tokens:,}.")
    times = [m["processing_time_ms"] for m in assistant_msgs if m.get("processing_time_ms")]
    if times:
        lines.append(f"Average reply time: {sum(times) / len(times):,.0f} ms.")
    return lines


def describe_session(history: list[dict[str, Any]], source: str) -> str:
    """Statistics and a short summary of a conversation's messages, as text."""
    user_msgs = [m for m in history if m["role"] == "user"]
    assistant_msgs = [m for m in history if m["role"] == "assistant"]
    errors = sum(1 for m in assistant_msgs if m.get("has_error"))
    lines = [
        f"This conversation has {len(history)} message(s): {len(user_msgs)} from you and "
        f"{len(assistant_msgs)} from the assistant ({errors} with errors).",
    ]
    stamps = [m["created_at"] for m in history if m.get("created_at")]
    if stamps:
        lines.append(
            f"Started {min(stamps).strftime('%Y-%m-%d %H:%M')} UTC, last message "
            f"{max(stamps).strftime('%Y-%m-%d %H:%M')} UTC."
        )
    lines.extend(_assistant_lines(assistant_msgs))
    topics = [one_line(m["content"], 80) for m in user_msgs[-5:]]
    if topics:
        lines.append("Your recent questions: " + "; ".join(f"“{t}”" for t in topics) + ".")
    lines.append(f"(Source: {source}.)")
    return "\n".join(lines)


def _run_session_stats(ctx: ToolContext, _args: dict[str, Any]) -> str:
    history, source = _stored_history(ctx)
    return describe_session(history, source)


SESSION_STATS_TOOL = Tool(
    SESSION_STATS,
    "Statistics and a short summary of the current conversation (message counts, "
    "tools used, tokens, reply times, recent questions).",
    {"type": "object", "properties": {}},
    _run_session_stats,
)
