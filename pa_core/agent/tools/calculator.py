"""The calculator tool: a whitelist AST evaluator of arithmetic, never eval()."""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable
from typing import Any

from pa_core.agent.tools.base import Tool, ToolContext, ToolError

CALCULATOR = "calculator"
MAX_EXPRESSION_CHARS = 300
MAX_RESULT_DIGITS = 1000


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


CALCULATOR_TOOL = Tool(
    CALCULATOR,
    "Evaluate an arithmetic expression exactly (+ - * / // % ** ^, parentheses, "
    "sqrt, log, sin, cos, tan, abs, round, floor, ceil, factorial, pi, e).",
    {
        "type": "object",
        "properties": {"expression": {"type": "string", "description": "e.g. '12 * (7 + 1)'"}},
        "required": ["expression"],
    },
    _run_calculator,
)
