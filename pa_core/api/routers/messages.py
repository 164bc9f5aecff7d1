"""GET /sessions/{session_id}/messages: a session's messages, paged backwards by id."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from pa_core.api.deps import CurrentUser, Service, SessionId
from pa_core.api.responses import SESSION_ERRORS
from pa_core.api.schemas import MessageListQuery, MessageOut, MessagePage

router = APIRouter(tags=["messages"])


@router.get("/sessions/{session_id}/messages", response_model=MessagePage, responses=SESSION_ERRORS)
def list_messages(
    user: CurrentUser,
    service: Service,
    session_id: SessionId,
    query: Annotated[MessageListQuery, Query()],
) -> MessagePage:
    """The last `limit` messages before `before_id`, oldest first."""
    rows = service.get_messages(session_id, user=user, limit=query.limit, before_id=query.before_id)
    next_before = rows[0].id if len(rows) == query.limit else None
    return MessagePage(items=[MessageOut.of(m) for m in rows], next_before_id=next_before)
