"""The assistant's tools: calculator, date/time, history search, session statistics."""

from __future__ import annotations

import ast
import math
import operator
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pa_core.errors import PAError

CALCULATOR = "calculator"
DATETIME = "get_datetime"
SEARCH = "search_history"
SESSION_STATS = "session_stats"

MAX_EXPRESSION_CHARS = 300
MAX_RESULT_DIGITS = 1000
MAX_SEARCH_HITS = 10


class ToolError(PAError):
    """A tool could not do what it was asked; the message is readable by a user (and a model)."""


@dataclass
class ToolContext:
    """What a tool may use during one turn: the service, the user, the session and its context."""

    service: Any
    user: Any
    session_id: str
    history: list[dict[str, Any]] = field(default_factory=list)
    exclude_message_ids: set[int] = field(default_factory=set)
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)


@dataclass(frozen=True)
class Tool:
    """A named function with a JSON-schema description (OpenAI function-calling format)."""

    name: str
    description: str
    parameters: dict[str, Any]
    run: Callable[[ToolContext, dict[str, Any]], str]

    def schema(self) -> dict[str, Any]:
        """The Chat Completions `tools=[...]` entry for this tool."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }


# -- calculator: a whitelist AST evaluator, never eval() ---------------------------------------


def _checked_pow(base: float, exp: float) -> float:
    if isinstance(base, int) and isinstance(exp, int) and exp > 0 and abs(base) > 1:
        if exp * math.log10(abs(base)) > MAX_RESULT_DIGITS:
            raise ToolError("The result would be too large to compute.")
    elif abs(exp) > 10_000 and abs(base) > 1:
        raise ToolError("The result would be too large to compute.")
    try:
        return operator.pow(base, exp)
    except ZeroDivisionError:
        raise ToolError("Division by zero.") from None


def _checked_mul(a: float, b: float) -> float:
    if (
        isinstance(a, int)
        and isinstance(b, int)
        and a
        and b
        and math.log10(abs(a)) + math.log10(abs(b)) > MAX_RESULT_DIGITS
    ):
        raise ToolError("The result would be too large to compute.")
    return a * b


def _factorial(n: float) -> int:
    if not float(n).is_integer() or n < 0:
        raise ToolError("factorial() needs a non-negative whole number.")
    if n > 400:
        raise ToolError("factorial() is limited to 400.")
    return math.factorial(int(n))


_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: _checked_mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: _checked_pow,
}
_UNARY: dict[type, Callable[[Any], Any]] = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "sqrt": math.sqrt,
    "abs": abs,
    "round": round,
    "floor": math.floor,
    "ceil": math.ceil,
    "exp": math.exp,
    "log": math.log,
    "ln": math.log,
    "log10": math.log10,
    "log2": math.log2,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "asin": math.asin,
    "acos": math.acos,
    "atan": math.atan,
    "degrees": math.degrees,
    "radians": math.radians,
    "min": min,
    "max": max,
    "factorial": _factorial,
}
_CONSTANTS = {"pi": math.pi, "e": math.e, "tau": math.tau}


def normalize_expression(expression: str) -> str:
    """Map everyday notation (^, ×, ÷, x between numbers, 1,000, 15% of 80) to Python."""
    expr = expression.strip().rstrip("?=.! ")
    expr = re.sub(r"(\d+(?:\.\d+)?)\s*%\s*of\s*", r"(\1 / 100) * ", expr, flags=re.IGNORECASE)
    expr = expr.replace("^", "**").replace("×", "*").replace("÷", "/").replace("−", "-")
    expr = re.sub(r"(?<=\d)\s*[xX]\s*(?=[\d(])", "*", expr)
    expr = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", expr)  # thousands separators
    return expr


def evaluate(expression: str) -> int | float:
    """Evaluate an arithmetic expression safely (numbers, operators, math functions)."""
    if not isinstance(expression, str) or not expression.strip():
        raise ToolError("There is no expression to calculate.")
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise ToolError(f"The expression is longer than {MAX_EXPRESSION_CHARS} characters.")
    expr = normalize_expression(expression)
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError:
        raise ToolError(f"I could not read {expression.strip()!r} as arithmetic.") from None
    try:
        return _eval_node(tree.body)
    except ZeroDivisionError:
        raise ToolError("Division by zero.") from None
    except OverflowError:
        raise ToolError("The result is too large.") from None
    except (ValueError, TypeError) as exc:
        raise ToolError(f"That calculation is not defined: {exc}.") from None


def _eval_node(node: ast.AST) -> Any:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        return _BINOPS[type(node.op)](_eval_node(node.left), _eval_node(node.right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_eval_node(node.operand))
    if isinstance(node, ast.Name) and node.id.lower() in _CONSTANTS:
        return _CONSTANTS[node.id.lower()]
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id.lower() in _FUNCTIONS
        and not node.keywords
        and len(node.args) <= 5
    ):
        return _FUNCTIONS[node.func.id.lower()](*[_eval_node(a) for a in node.args])
    raise ToolError("Only numbers, + - * / // % ** ^, parentheses and math functions are allowed.")


def format_number(value: int | float) -> str:
    """A number as people write it: integers without '.0', floats to 12 significant digits."""
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise ToolError("The result is not a finite number.")
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return format(value, ".12g")
    text = str(value)
    if len(text) > MAX_RESULT_DIGITS + 1:
        raise ToolError("The result would be too large to show.")
    return text


def _run_calculator(_ctx: ToolContext, args: dict[str, Any]) -> str:
    expression = args.get("expression")
    if not isinstance(expression, str):
        raise ToolError("The calculator needs an 'expression' (text).")
    return f"{expression.strip()} = {format_number(evaluate(expression))}"


# -- date and time ------------------------------------------------------------------------------

_TZ_ALIASES = {
    "utc": "UTC",
    "gmt": "UTC",
    "z": "UTC",
    "zulu": "UTC",
    "est": "America/New_York",
    "edt": "America/New_York",
    "eastern": "America/New_York",
    "cst": "America/Chicago",
    "cdt": "America/Chicago",
    "central": "America/Chicago",
    "mst": "America/Denver",
    "mountain": "America/Denver",
    "pst": "America/Los_Angeles",
    "pdt": "America/Los_Angeles",
    "pacific": "America/Los_Angeles",
    "cet": "Europe/Paris",
    "cest": "Europe/Paris",
    "bst": "Europe/London",
    "ist": "Asia/Kolkata",
    "jst": "Asia/Tokyo",
    "aest": "Australia/Sydney",
    "san francisco": "America/Los_Angeles",
    "washington": "America/New_York",
    "boston": "America/New_York",
    "seattle": "America/Los_Angeles",
    "beijing": "Asia/Shanghai",
    "delhi": "Asia/Kolkata",
    "new delhi": "Asia/Kolkata",
    "mumbai": "Asia/Kolkata",
    "munich": "Europe/Berlin",
    "frankfurt": "Europe/Berlin",
    "zurich": "Europe/Zurich",
    "geneva": "Europe/Zurich",
    "milan": "Europe/Rome",
    "barcelona": "Europe/Madrid",
    "osaka": "Asia/Tokyo",
    "kyoto": "Asia/Tokyo",
    "rio": "America/Sao_Paulo",
    "montreal": "America/Toronto",
}


@lru_cache(maxsize=1)
def _zone_index() -> dict[str, str]:
    """Lower-cased IANA names and their city parts ('new york' -> 'America/New_York')."""
    index: dict[str, str] = {}
    for name in sorted(available_timezones()):
        if name.startswith(("Etc/", "SystemV/", "posix/", "right/")):
            continue
        index.setdefault(name.lower(), name)
        city = name.rsplit("/", 1)[-1].replace("_", " ").lower()
        index.setdefault(city, name)
    index.update(_TZ_ALIASES)
    return index


def resolve_timezone(name: str | None) -> ZoneInfo:
    """A ZoneInfo from an IANA name, a city ('Tokyo', 'New York') or an abbreviation ('PST')."""
    if name is None or not str(name).strip():
        return ZoneInfo("UTC")
    key = " ".join(str(name).replace("_", " ").split()).lower()
    iana = _zone_index().get(key) or _zone_index().get(str(name).strip().lower())
    if iana is None:
        raise ToolError(f"I don't know the time zone {str(name).strip()!r}.")
    try:
        return ZoneInfo(iana)
    except (ZoneInfoNotFoundError, ValueError):
        raise ToolError(f"I don't know the time zone {str(name).strip()!r}.") from None


def find_timezone_in(text: str) -> str | None:
    """The longest known time zone / city name mentioned in `text`, if any."""
    words = re.findall(r"[A-Za-z_/+-]+", text)
    index = _zone_index()
    best: str | None = None
    for size in (3, 2, 1):
        for i in range(len(words) - size + 1):
            phrase = " ".join(words[i : i + size])
            key = phrase.replace("_", " ").lower()
            if key in index and (size > 1 or len(key) > 2 or key in ("utc", "gmt")):
                if key in ("time", "date", "now", "today", "is", "it", "in", "what", "day"):
                    continue
                if best is None or len(phrase) > len(best):
                    best = phrase
        if best:
            return best
    return None


def describe_now(now: datetime, tz: ZoneInfo) -> str:
    """'Tuesday, 24 November 2026, 09:05 (Europe/Paris, UTC+01:00)'."""
    local = now.astimezone(tz)
    offset = local.strftime("%z")
    offset = f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC"
    return f"{local.strftime('%A, %d %B %Y, %H:%M')} ({tz.key}, {offset})"


def _run_datetime(ctx: ToolContext, args: dict[str, Any]) -> str:
    tz = resolve_timezone(args.get("timezone"))
    return describe_now(ctx.clock(), tz)


# -- search of past conversations ----------------------------------------------------------------


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


# -- statistics and summary of the current session -----------------------------------------------


def _run_session_stats(ctx: ToolContext, args: dict[str, Any]) -> str:
    history = ctx.history
    source = "in-memory context (the database is not reachable)"
    try:
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
            for m in ctx.service.get_messages(ctx.session_id, user=ctx.user, limit=1000)
        ]
        source = "database"
    except PAError:
        pass  # the session exists only in memory (not yet saved); use what we have
    user_msgs = [m for m in history if m["role"] == "user"]
    assistant_msgs = [m for m in history if m["role"] == "assistant"]
    tools = Counter(t for m in assistant_msgs for t in (m.get("tools_used") or []))
    errors = sum(1 for m in assistant_msgs if m.get("has_error"))
    tokens = sum(m.get("token_count") or 0 for m in assistant_msgs)
    times = [m["processing_time_ms"] for m in assistant_msgs if m.get("processing_time_ms")]
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
    if tools:
        used = ", ".join(f"{name} ×{n}" for name, n in tools.most_common())
        lines.append(f"Tools used: {used}.")
    if tokens:
        lines.append(f"Tokens reported: {tokens:,}.")
    if times:
        lines.append(f"Average reply time: {sum(times) / len(times):,.0f} ms.")
    topics = [one_line(m["content"], 80) for m in user_msgs[-5:]]
    if topics:
        lines.append("Your recent questions: " + "; ".join(f"“{t}”" for t in topics) + ".")
    lines.append(f"(Source: {source}.)")
    return "\n".join(lines)


def one_line(text: str, width: int) -> str:
    """One line of at most `width` characters, cut at a word boundary when there is one in the
    second half (titles, quoted questions)."""
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    cut = text[: width - 1]
    if " " in cut[width // 2 :]:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,.;:") + "…"


TOOLS: dict[str, Tool] = {
    t.name: t
    for t in (
        Tool(
            CALCULATOR,
            "Evaluate an arithmetic expression exactly (+ - * / // % ** ^, parentheses, "
            "sqrt, log, sin, cos, tan, abs, round, floor, ceil, factorial, pi, e).",
            {
                "type": "object",
                "properties": {
                    "expression": {"type": "string", "description": "e.g. '12 * (7 + 1)'"}
                },
                "required": ["expression"],
            },
            _run_calculator,
        ),
        Tool(
            DATETIME,
            "The current date and time, in a time zone (IANA name such as 'Europe/Paris', "
            "a city such as 'Tokyo', or 'UTC'; default UTC).",
            {
                "type": "object",
                "properties": {"timezone": {"type": "string", "description": "default UTC"}},
            },
            _run_datetime,
        ),
        Tool(
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
        ),
        Tool(
            SESSION_STATS,
            "Statistics and a short summary of the current conversation (message counts, "
            "tools used, tokens, reply times, recent questions).",
            {"type": "object", "properties": {}},
            _run_session_stats,
        ),
    )
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
