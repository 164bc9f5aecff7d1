"""POST /chat: one turn with the assistant, answered as JSON or as server-sent events."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import closing
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from pa_core.agent import ChatReply, PersonalAssistant
from pa_core.api import idempotency
from pa_core.api.deps import AppSettings, CurrentUser, Service
from pa_core.api.errors import APIError
from pa_core.api.responses import BODY_ERRORS, CHAT_BODY, SESSION_ERRORS
from pa_core.api.schemas import ChatIn, ChatOut, ChatQuery
from pa_core.api.streaming import GuardedStream
from pa_core.config import Settings
from pa_core.errors import PAError, SessionNotFound
from pa_core.records import SessionRecord, UserRecord
from pa_core.service import ConversationService
from pa_core.validation import MAX_CONTENT_CHARS, check_content

log = logging.getLogger(__name__)

router = APIRouter(tags=["chat"])


@router.post(
    "/chat", response_model=ChatOut, responses={**SESSION_ERRORS, **BODY_ERRORS, **CHAT_BODY}
)
async def chat(
    user: CurrentUser,
    service: Service,
    settings: AppSettings,
    body: ChatIn,
    query: Annotated[ChatQuery, Query()],
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Any:
    """Send a message to the assistant; the exchange is stored in the session (a retry with the
    same Idempotency-Key stores nothing twice and answers the stored reply)."""
    # One hop to a worker thread for the whole turn (it blocks on the database); the reply is
    # then serialised here, on the event loop (a sync route would hop a second time for that).
    return await run_in_threadpool(
        _turn, user, service, settings, body, query.stream, idempotency_key
    )


def _turn(
    user: UserRecord,
    service: ConversationService,
    settings: Settings,
    body: ChatIn,
    stream: bool,
    idempotency_key: str | None,
) -> ChatOut | GuardedStream:
    """The turn of POST /chat, in a worker thread: its reply, or the stream of its events."""
    if len(body.message) > MAX_CONTENT_CHARS:
        raise APIError(
            413,
            f"The message is too long ({len(body.message):,} characters; the limit is "
            f"{MAX_CONTENT_CHARS:,}).",
        )
    message = check_content(body.message)
    client_id = idempotency.client_id_for(idempotency_key)
    session = _session_of(service, user, body.session_id, client_id)
    session_id = session.session_id
    stored = idempotency.stored_reply(service, user, session_id, client_id) if client_id else None
    if stored and not stream:
        return stored
    if stored:
        return _event_stream(
            idempotency.replay_events(stored, sse_event), settings.stream_timeout_s
        )
    assistant = PersonalAssistant(service, user, settings=settings)
    if not stream:
        reply = assistant.chat(message, session_id=session_id, client_id=client_id, session=session)
        return reply_out(reply)
    return _event_stream(
        sse_events(assistant, message, session, client_id), settings.stream_timeout_s
    )


def _session_of(
    service: Any, user: UserRecord, session_id: str | None, client_id: str | None
) -> SessionRecord:
    """The turn's session: the caller's `session_id` (SessionNotFound when not theirs), the
    one an Idempotency-Key names, or a new one (created here, so an outage is a 503)."""
    if session_id is not None:
        session = service.get_session(session_id, user=user)
        if session is None:
            raise SessionNotFound(session_id)
        return session
    if client_id is not None:
        return idempotency.session_record(service, user, client_id)
    return service.create_session(user=user)


def _event_stream(events: Iterator[str], timeout_s: float) -> StreamingResponse:
    """A text/event-stream response that proxies do not buffer; `events` is closed as soon as
    the response ends, also when the client went away or stalled for `timeout_s`: the turn then
    stores its partial reply at once (Starlette would leave a sync generator to the garbage
    collector)."""
    return GuardedStream(
        events,
        timeout_s=timeout_s,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def reply_out(reply: ChatReply) -> ChatOut:
    """ChatOut from the assistant's ChatReply."""
    return ChatOut.model_validate(reply, from_attributes=True)


def sse_event(data: Any, event: str | None = None) -> str:
    """One server-sent event whose data is `data` as JSON."""
    lines = [f"event: {event}"] if event else []
    lines.append("data: " + json.dumps(data, ensure_ascii=False))
    return "\n".join(lines) + "\n\n"


def sse_events(
    assistant: PersonalAssistant,
    message: str,
    session: SessionRecord | str,
    client_id: str | None = None,
) -> Iterator[str]:
    """Server-sent events: `session`, one `delta` per text chunk, then `done` (or `error`).

    `session`: the SessionRecord the route read (or a session id)."""
    record = None if isinstance(session, str) else session
    session_id = session if record is None else record.session_id
    yield sse_event({"session_id": session_id}, "session")
    try:
        turn_of = assistant.stream(
            message, session_id=session_id, client_id=client_id, session=record
        )
        with closing(turn_of) as turn:
            for chunk in turn:
                if chunk:
                    yield sse_event({"text": chunk}, "delta")
    except PAError as exc:
        yield sse_event({"detail": str(exc)}, "error")
        return
    except Exception:  # boundary: the status line is already sent; report in-band
        log.exception("streaming reply failed")
        yield sse_event(
            {"detail": "The reply failed on the server; the error was logged."}, "error"
        )
        return
    yield sse_event(reply_out(assistant.last_reply).model_dump(), "done")
