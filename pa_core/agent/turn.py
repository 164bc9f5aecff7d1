"""What one chat turn gathers while it runs (shared by the assistant and Retry/Regenerate)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pa_core.agent.providers import TurnResult

# (short readable content, detail for error_message) of a turn that ended without a reply.
TurnError = tuple[str, str]


@dataclass
class Turn:
    """What one turn has gathered so far."""

    sid: str
    text: str
    stream: bool
    first_exchange: bool
    started: float
    user_record: Any
    client_id: str | None = None
    result: TurnResult = field(default_factory=TurnResult)
    chunks: list[str] = field(default_factory=list)
    context_messages: int = 0  # how many messages the model was given (history + this one)
