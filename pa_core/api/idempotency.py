"""Idempotency-Key on POST /chat: a retry with the same key stores nothing twice and answers
the reply stored the first time.

The key (any text up to 255 characters, per user) becomes the client id of the user message
and, derived from that, of the reply; without a session id it also names the session, so a retry
of a request that started a new session finds the same one.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from typing import Any

from pa_core.agent.replies import reply_client_id
from pa_core.api.schemas import ChatOut
from pa_core.errors import ValidationError
from pa_core.records import MessageRecord, SessionRecord, UserRecord

MAX_KEY_CHARS = 255
SESSION_NAMESPACE = uuid.UUID("2b7f7a43-7c1e-4f0e-8d8e-5d3f0c2a9b61")


def client_id_for(key: str | None) -> str | None:
    """The client id of the user message of a request with this Idempotency-Key (None: none)."""
    if key is None:
        return None
    if not key.strip() or len(key) > MAX_KEY_CHARS or not key.isprintable():
        raise ValidationError(
            f"The Idempotency-Key header must be 1-{MAX_KEY_CHARS} printable characters."
        )
    return "idem-" + hashlib.sha256(key.encode()).hexdigest()[:40]


def session_for(service: Any, user: UserRecord, client_id: str) -> str:
    """The id of the session a keyed request without a session id uses (see session_record)."""
    return session_record(service, user, client_id).session_id


def session_record(service: Any, user: UserRecord, client_id: str) -> SessionRecord:
    """The session a keyed request without a session id uses (created on the first try)."""
    sid = str(uuid.uuid5(SESSION_NAMESPACE, f"{user.id}:{client_id}"))
    return service.restore_session(sid, user=user)


def stored_reply(service: Any, user: UserRecord, session_id: str, client_id: str) -> ChatOut | None:
    """The reply stored by an earlier request with the same key, or None."""
    record = service.get_message_by_client_id(
        session_id, user=user, client_id=reply_client_id(client_id)
    )
    return None if record is None else reply_of(record)


def reply_of(record: MessageRecord) -> ChatOut:
    """ChatOut of a stored assistant message."""
    return ChatOut(
        session_id=record.session_id,
        content=record.content,
        tools_used=list(record.tools_used or []),
        processing_time_ms=record.processing_time_ms,
        token_count=record.token_count,
        has_error=record.has_error,
        error_message=record.error_message,
        message_id=record.id,
        saved=True,
    )


def replay_events(reply: ChatOut, sse_event: Any) -> Iterator[str]:
    """The server-sent events of a stored reply: session, one delta, done."""
    yield sse_event({"session_id": reply.session_id}, "session")
    yield sse_event({"text": reply.content}, "delta")
    yield sse_event(reply.model_dump(), "done")
