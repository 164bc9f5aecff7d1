"""The history search tool: full-text search of the user's past conversations."""

from __future__ import annotations

from typing import Any

from pa_core.agent.tools.base import Tool, ToolContext, ToolError

SEARCH = "search_history"
MAX_SEARCH_HITS = 10


def _run_search(ctx: ToolContext, args: dict[str, Any]) -> str:
    query = args.get("query")
    if not isinstance(query, str) or not query.strip():
        raise ToolError("Search needs a 'query' (text).")
    limit = args.get("limit", 5)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        limit = 5
    limit = min(limit, MAX_SEARCH_HITS)
    hits = ctx.service.search_messages(ctx.user, query.strip(), limit=limit + 2)
    hits = [h for h in hits if h.message_id not in ctx.exclude_message_ids][:limit]
    if not hits:
        return f"No past messages match {query.strip()!r}."
    lines = [f"{len(hits)} message(s) matching {query.strip()!r}, newest first:"]
    for hit in hits:
        title = hit.session_title or "Untitled conversation"
        when = hit.created_at.strftime("%Y-%m-%d")
        snippet = " ".join(hit.snippet.split())
        lines.append(f"- {when}, “{title}” ({hit.role}): {snippet}")
    return "\n".join(lines)


SEARCH_TOOL = Tool(
    SEARCH,
    "Full-text search of the user's past conversations; returns dated snippets.",
    {
        "type": "object",
        "properties": {
            "query": {"type": "string", "description": "words to look for"},
            "limit": {"type": "integer", "minimum": 1, "maximum": MAX_SEARCH_HITS},
        },
        "required": ["query"],
    },
    _run_search,
)
