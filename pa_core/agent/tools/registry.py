"""Every tool by name: how providers run them and describe them to a model."""

from __future__ import annotations

from typing import Any

from pa_core.agent.tools.base import Tool, ToolContext, ToolError
from pa_core.agent.tools.calculator import CALCULATOR_TOOL
from pa_core.agent.tools.clock import DATETIME_TOOL
from pa_core.agent.tools.history import SEARCH_TOOL
from pa_core.agent.tools.session_stats import SESSION_STATS_TOOL

TOOLS: dict[str, Tool] = {
    t.name: t for t in (CALCULATOR_TOOL, DATETIME_TOOL, SEARCH_TOOL, SESSION_STATS_TOOL)
}


def run_tool(name: str, ctx: ToolContext, args: dict[str, Any]) -> str:
    """Run tool `name`; raises ToolError with a readable message when it cannot."""
    tool = TOOLS.get(name)
    if tool is None:
        raise ToolError(f"There is no tool called {name!r}.")
    if not isinstance(args, dict):
        raise ToolError("Tool arguments must be a JSON object.")
    return tool.run(ctx, args)


def tool_schemas() -> list[dict[str, Any]]:
    """Every tool in Chat Completions `tools=` format."""
    return [t.schema() for t in TOOLS.values()]
