"""The offline provider: a deterministic assistant built on the real tools, no model needed."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from typing import Any

from pa_core.agent.providers.base import TurnResult
from pa_core.agent.tools import (
    CALCULATOR,
    DATETIME,
    SEARCH,
    SESSION_STATS,
    ToolContext,
    ToolError,
    find_timezone_in,
    run_tool,
)

OFFLINE_MODEL = "offline-tools-1"

CAPABILITIES = (
    "- **Calculator**: “What is 12 * 7?”, “sqrt(2) * 10”, “15% of 80”, “2^32”\n"
    "- **Date and time**: “What time is it?”, “What's the date in Europe/Paris?”\n"
    "- **Search your past conversations**: “Search my conversations for invoices”\n"
    "- **This conversation**: “Summarize this conversation” or “Show session statistics”"
)
ENABLE_MODEL = "set `PA_LLM_API_KEY` or `PA_LLM_BASE_URL` to connect a model"
NO_MODEL_NOTE = (
    "No language model is configured, so I'm running as the offline assistant: "
    f"{ENABLE_MODEL} (any OpenAI-compatible server) for free-form answers."
)
HELP_TEXT = f"{NO_MODEL_NOTE}\n\nHere is what I can do offline:\n{CAPABILITIES}"
# What the offline assistant says to anything its tools do not cover: one or two short lines,
# chosen by the prompt (the same question gets the same answer), none quoting the question, so
# the stored replies neither repeat one block nor turn up in a search for the user's words.
CANNOT_DO = (
    "I can't answer that offline — no language model is connected ({enable}). "
    "Type **help** to see what works without one.",
    "That needs a language model, and none is configured ({enable}). "
    "Offline I do arithmetic, dates and times, and search your chats.",
    "No model is connected, so I can't help with that here ({enable}). "
    "Try a sum, “what time is it?” or “search my chats for …”.",
    "Offline mode: only calculator, date/time, search and session stats work. "
    "For anything else, {enable}.",
)
GREETINGS = (
    "Hello! I'm the offline assistant (no model connected). Type **help** to see what I can do.",
    "Hi! No language model is connected, so I handle sums, dates, times and searches. "
    "Type **help** for examples.",
    "Hey! I'm running offline; {enable} for a full assistant. **help** lists what works now.",
)

_ARITH_CHARS = r"[\d\s.,+\-*/^%×÷−()xX]"
_FUNC_NAMES = (
    r"(?:sqrt|abs|round|floor|ceil|exp|log10|log2|log|ln|sin|cos|tan|asin|acos|atan"
    r"|factorial|degrees|radians|min|max|pi|tau)"
)
_SCIENTIFIC = r"\d+(?:\.\d+)?e[+-]?\d+"
_EXPR = re.compile(rf"(?:{_SCIENTIFIC}|{_FUNC_NAMES}|{_ARITH_CHARS})+", re.IGNORECASE)
_PERCENT_OF = re.compile(r"\d+(?:\.\d+)?\s*%\s*of\s*\d[\d,]*(?:\.\d+)?", re.IGNORECASE)
_SEARCH = re.compile(
    r"(?:search|find|look\s*up|look\s+for)\b(?:\s+(?:my|our|the))?"
    r"(?:\s+(?:past|previous|old|earlier))?"
    r"(?:\s+(?:conversations?|chats?|messages?|history|sessions?))?"
    r"(?:\s+(?:for|about|mentioning|with))?\s+(?P<q>.+)",
    re.IGNORECASE,
)
_SAID_ABOUT = re.compile(
    r"(?:what\s+did\s+(?:i|we)\s+(?:say|talk|write|discuss)|did\s+(?:i|we)\s+(?:mention|discuss|talk\s+about))"
    r"(?:\s+(?:about|regarding|on))?\s+(?P<q>.+)",
    re.IGNORECASE,
)
_STATS = re.compile(
    r"\b(summar(?:y|ise|ize)|statistics|stats|recap|how\s+many\s+messages)\b", re.IGNORECASE
)
_TIME = re.compile(
    r"\b(time|date|today|day\s+is\s+it|what\s+day|clock|timezone|time\s+zone)\b", re.IGNORECASE
)
_CALC_CUE = re.compile(
    r"\b(what\s*(?:is|'s)|calculate|calc|compute|how\s+much|evaluate|solve|result)\b|[=?]",
    re.IGNORECASE,
)
_GREETING = re.compile(r"^\s*(hi|hello|hey|good\s+(morning|afternoon|evening))\b", re.I)
_HELP = re.compile(
    r"^\s*(?:/?help|\?|what\s+can\s+you\s+do|commands|how\s+do\s+(?:i|you)\s+use\s+(?:you|this))"
    r"\s*[?!.]*\s*$",
    re.I,
)


class OfflineProvider:
    """Answers arithmetic, date/time, history search and session statistics with real tools."""

    name = "offline"
    model = OFFLINE_MODEL
    is_offline = True

    def respond(
        self,
        messages: list[dict[str, Any]],
        ctx: ToolContext,
        result: TurnResult,
        *,
        stream: bool,
    ) -> Iterator[str]:
        """Yield the reply to the last user message in a few chunks (lines)."""
        result.model = self.model
        text = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
        reply = self.answer(text, ctx, result)
        # No model, no tokens: the token count stays None (nothing is made up for analytics).
        if not stream:
            yield reply
            return
        yield from _chunks(reply)

    def make_title(self, first_message: str) -> str | None:
        """No model: the caller uses the first message as the title."""
        return None

    def answer(self, text: str, ctx: ToolContext, result: TurnResult) -> str:
        """The whole reply to `text`; a tool failure raises ToolError (the assistant reports it)."""
        plan = plan_tools(text)
        if not plan:
            return _fallback(text)
        parts = []
        for name, args in plan:
            result.tools_used.append(name)
            output = run_tool(name, ctx, args)
            parts.append(_present(name, args, output))
        return "\n\n".join(parts)


def plan_tools(text: str) -> list[tuple[str, dict[str, Any]]]:
    """Which tools a message asks for, with their arguments (deterministic rules)."""
    stripped = text.strip()
    m = _SEARCH.search(stripped) or _SAID_ABOUT.search(stripped)
    if m and not _looks_like_arithmetic(stripped):
        query = m.group("q").strip().strip("?.!\"'“”")
        if query:
            return [(SEARCH, {"query": query})]
    if _STATS.search(stripped) and (
        len(stripped.split()) <= 3
        or re.search(r"\b(conversation|chat|session)\b", stripped, re.IGNORECASE)
    ):
        return [(SESSION_STATS, {})]
    expression = extract_expression(stripped)
    if expression is not None and (
        _CALC_CUE.search(stripped) or len(expression) >= 0.6 * len(stripped.rstrip("?!. "))
    ):
        return [(CALCULATOR, {"expression": expression})]
    if _TIME.search(stripped):
        zone = find_timezone_in(_after_in(stripped)) or _named_place(stripped)
        return [(DATETIME, {"timezone": zone} if zone else {})]
    return []


def _after_in(text: str) -> str:
    """The part after ' in ' / ' at ' (where a place usually is), else the whole text."""
    m = re.search(r"\b(?:in|at|for)\s+(.+)$", text, re.IGNORECASE)
    return m.group(1) if m else text


def _named_place(text: str) -> str | None:
    """A capitalised place after 'in' ('time in Atlantis') that is not a known zone: the tool
    then says it does not know it, rather than silently answering in UTC."""
    m = re.search(r"\b(?:in|at)\s+([A-Z][\w/+-]*(?:\s+[A-Z][\w/+-]*)*)", text)
    return m.group(1) if m else None


def _looks_like_arithmetic(text: str) -> bool:
    return extract_expression(text) is not None and not re.search(r"[a-z]{4,}\s+for\b", text)


def extract_expression(text: str) -> str | None:
    """The arithmetic expression in a message ('What is 12 * 7?' -> '12 * 7'), or None."""
    percent = _PERCENT_OF.search(text)
    if percent:
        return percent.group(0).rstrip(
            ","
        )  # "15% of 80"; normalize_expression() makes it arithmetic
    best = None
    for m in _EXPR.finditer(text):
        candidate = m.group(0).strip().strip(",.").strip()
        if not re.search(r"\d|pi|tau", candidate, re.IGNORECASE):
            continue
        has_op = re.search(r"[+\-*/^%×÷−]|\d\s*[xX]\s*\d", candidate) or re.match(
            _FUNC_NAMES + r"\s*\(", candidate, re.IGNORECASE
        )
        if not has_op:
            continue
        if best is None or len(candidate) > len(best):
            best = candidate
    if best is None:
        return None
    # Dates like 2026-11-24 or 24/11/2026 are not arithmetic questions.
    if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}/\d{2,4}", best):
        return None
    return best


def _present(name: str, args: dict[str, Any], output: str) -> str:
    if name == CALCULATOR:
        value = output.rsplit(" = ", 1)[-1]
        return f"{args['expression']} = **{value}**"
    if name == DATETIME:
        return f"It is {output}."
    return output


def _fallback(text: str) -> str:
    """The full help on an explicit 'help'; otherwise a short line chosen by the prompt."""
    if _HELP.match(text):
        return HELP_TEXT
    variants = GREETINGS if _GREETING.match(text) else CANNOT_DO
    return _pick(variants, text).format(enable=ENABLE_MODEL)


def _pick(variants: tuple[str, ...], text: str) -> str:
    """One of `variants`, the same for the same prompt (a stable hash, not Python's salted one)."""
    digest = hashlib.blake2s(" ".join(text.casefold().split()).encode(), digest_size=4).digest()
    return variants[int.from_bytes(digest, "big") % len(variants)]


def _chunks(reply: str) -> Iterator[str]:
    """Split a reply into line-sized chunks that join back to exactly `reply`."""
    yield from reply.splitlines(keepends=True)


__all__ = ["OfflineProvider", "ToolError", "extract_expression", "plan_tools"]
