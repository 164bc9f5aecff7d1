"""The assistant: PersonalAssistant over the ConversationService, with offline and OpenAI models."""

from pa_core.agent.assistant import ChatReply, PersonalAssistant
from pa_core.agent.context import HISTORY_MAX_CHARS, HISTORY_MAX_MESSAGES, ContextCache
from pa_core.agent.outbox import Outbox
from pa_core.agent.providers import (
    OfflineProvider,
    OpenAIProvider,
    Provider,
    ProviderError,
    TurnResult,
    make_provider,
)
from pa_core.agent.replies import LOST_NOTE, UNSAVED_NOTE
from pa_core.agent.spool import SpoolError, SpoolFull
from pa_core.agent.tools import TOOLS, ToolError

__all__ = [
    "HISTORY_MAX_CHARS",
    "HISTORY_MAX_MESSAGES",
    "LOST_NOTE",
    "TOOLS",
    "ChatReply",
    "ContextCache",
    "OfflineProvider",
    "OpenAIProvider",
    "Outbox",
    "PersonalAssistant",
    "Provider",
    "ProviderError",
    "SpoolError",
    "SpoolFull",
    "ToolError",
    "TurnResult",
    "UNSAVED_NOTE",
    "make_provider",
]
