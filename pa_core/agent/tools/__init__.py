"""The assistant's tools: calculator, date/time, history search, session statistics."""

from pa_core.agent.tools.base import Tool, ToolContext, ToolError, one_line
from pa_core.agent.tools.calculator import CALCULATOR, evaluate, format_number, normalize_expression
from pa_core.agent.tools.clock import DATETIME, describe_now, find_timezone_in, resolve_timezone
from pa_core.agent.tools.history import SEARCH
from pa_core.agent.tools.registry import TOOLS, run_tool, tool_schemas
from pa_core.agent.tools.session_stats import SESSION_STATS

__all__ = [
    "CALCULATOR",
    "DATETIME",
    "SEARCH",
    "SESSION_STATS",
    "TOOLS",
    "Tool",
    "ToolContext",
    "ToolError",
    "describe_now",
    "evaluate",
    "find_timezone_in",
    "format_number",
    "normalize_expression",
    "one_line",
    "resolve_timezone",
    "run_tool",
    "tool_schemas",
]
