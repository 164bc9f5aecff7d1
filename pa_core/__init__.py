"""Personal Assistant core: persistence, search, export, analytics and the assistant."""

from pa_core.config import Settings, get_settings
from pa_core.errors import MigrationError, PAError, SessionNotFound, StorageError, ValidationError
from pa_core.migrate import migrate
from pa_core.records import (
    ImportReport,
    MessageRecord,
    SearchHit,
    SessionMetrics,
    SessionRecord,
    UserRecord,
)
from pa_core.service import ConversationService

User = UserRecord

__all__ = [
    "ConversationService",
    "ImportReport",
    "MessageRecord",
    "MigrationError",
    "PAError",
    "SearchHit",
    "SessionMetrics",
    "SessionNotFound",
    "SessionRecord",
    "Settings",
    "StorageError",
    "User",
    "UserRecord",
    "ValidationError",
    "get_settings",
    "migrate",
]


def __getattr__(name):
    """PersonalAssistant and ChatReply load lazily (the agent pulls in the openai SDK)."""
    if name in ("PersonalAssistant", "ChatReply"):
        from pa_core import agent

        return getattr(agent, name)
    raise AttributeError(name)
