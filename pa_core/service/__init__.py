"""The conversation service: a facade over users, sessions, messages, search, export, analytics
and API tokens; the facade alone opens transactions, the helper modules take its connection."""

from pa_core.service.facade import ConversationService

__all__ = ["ConversationService"]
