"""What every tool shares: the error it raises, the context of a turn, the Tool record."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pa_core.errors import PAError


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
