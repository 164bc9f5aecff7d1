"""What a turn answers: ChatReply, the notices stored or shown instead of a reply, and the client
id of a reply."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

UNSAVED_NOTE = (
    "\n\n---\n⚠️ *History could not be saved yet: the database is not reachable right now. "
    "This exchange is kept safely on the server's disk and will be saved automatically "
    "once the database is back.*"
)
LOST_NOTE = (
    "\n\n---\n⚠️ *This reply was NOT saved: the database is not reachable and this server "
    "cannot keep more messages for it. Copy what you need from it now.*"
)
# What is stored for a reply interrupted before it said anything (not an error: has_error False).
INTERRUPTED_EMPTY = "⚠️ The reply was interrupted before it began."
# (short readable content, detail for error_message) of the turns that end without a reply.
EMPTY_REPLY = ("The model returned an empty reply.", "empty completion")
UNEXPECTED = "Something went wrong while preparing the reply."


def reply_client_id(client_id: str) -> str:
    """The client id of the reply to the user message stored with `client_id`."""
    return "reply-" + hashlib.sha256(client_id.encode()).hexdigest()[:40]


@dataclass(frozen=True)
class ChatReply:
    """The outcome of one turn, as stored (plus the unsaved-history note when `saved` is False)."""

    session_id: str
    content: str
    tools_used: list[str]
    processing_time_ms: int
    token_count: int | None
    has_error: bool = False
    error_message: str | None = None
    message_id: int | None = None
    user_message_id: int | None = None
    model: str | None = None
    provider: str | None = None
    saved: bool = True
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    title: str | None = None


__all__ = [
    "EMPTY_REPLY",
    "INTERRUPTED_EMPTY",
    "LOST_NOTE",
    "UNEXPECTED",
    "UNSAVED_NOTE",
    "ChatReply",
    "reply_client_id",
]
