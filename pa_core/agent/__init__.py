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
from pa_core.agent.tools import TOOLS, ToolError

__all__ = [
    "HISTORY_MAX_CHARS",
    "HISTORY_MAX_MESSAGES",
    "TOOLS",
    "ChatReply",
    "ContextCache",
    "OfflineProvider",
    "OpenAIProvider",
    "Outbox",
    "PersonalAssistant",
    "Provider",
    "ProviderError",
    "ToolError",
    "TurnResult",
    "make_provider",
]
