"""What every provider implements: the Provider protocol, TurnResult and the provider errors."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from pa_core.agent.tools import ToolContext
from pa_core.errors import PAError


class ProviderConfigError(PAError):
    """Settings name a provider that does not exist."""


class ProviderError(PAError):
    """A model call failed; `message` is short and readable, `detail` says what happened."""

    def __init__(self, message: str, detail: str | None = None):
        super().__init__(message)
        self.message = message
        self.detail = detail or message


@dataclass
class TurnResult:
    """Filled in by a provider while it answers: tools called, tokens reported, model name."""

    tools_used: list[str] = field(default_factory=list)
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    model: str | None = None
    tool_errors: list[str] = field(default_factory=list)
    estimated_tokens: bool = False

    def add_usage(self, prompt: int | None, completion: int | None, total: int | None) -> None:
        """Add one model call's usage (a tool loop makes several calls per reply)."""
        if prompt is None and completion is None and total is None:
            return
        if total is None:
            total = (prompt or 0) + (completion or 0)
        self.prompt_tokens = (self.prompt_tokens or 0) + (prompt or 0)
        self.completion_tokens = (self.completion_tokens or 0) + (completion or 0)
        self.total_tokens = (self.total_tokens or 0) + total


class Provider(Protocol):
    """A model: answers the conversation `messages`, yielding text chunks as they come."""

    name: str
    model: str
    is_offline: bool

    def respond(
        self,
        messages: list[dict[str, Any]],
        ctx: ToolContext,
        result: TurnResult,
        *,
        stream: bool,
    ) -> Iterator[str]:
        """Yield the reply's text chunks; raise ProviderError when the model call fails."""
        ...

    def make_title(self, first_message: str) -> str | None:
        """A short title for a conversation that starts with `first_message` (None: use it)."""
        ...
