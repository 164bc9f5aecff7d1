"""Sessions of the caller: create, list (keyset pages), read, rename/archive, delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Response

from pa_core.api.cursor import decode_cursor, encode_cursor
from pa_core.api.deps import CurrentUser, NoParams, Service, SessionId
from pa_core.api.errors import APIError
from pa_core.api.responses import AUTH_ERRORS, BODY_ERRORS, SESSION_ERRORS
from pa_core.api.schemas import (
    NewSessionIn,
    NewSessionOut,
    SessionListQuery,
    SessionOut,
    SessionPage,
    SessionPatchIn,
)
from pa_core.errors import SessionNotFound

router = APIRouter(tags=["sessions"])


@router.post(
    "/sessions/new", response_model=NewSessionOut, responses={**AUTH_ERRORS, **BODY_ERRORS}
)
def new_session(
    user: CurrentUser,
    service: Service,
    _query: NoParams,
    body: Annotated[NewSessionIn | None, Body()] = None,
) -> NewSessionOut:
    """Start an empty session (optional title)."""
    s = service.create_session(user=user, title=body.title if body else None)
    return NewSessionOut.model_validate(s, from_attributes=True)


@router.get("/sessions", response_model=SessionPage, responses=AUTH_ERRORS)
def list_sessions(
    user: CurrentUser, service: Service, query: Annotated[SessionListQuery, Query()]
) -> SessionPage:
    """The caller's sessions, newest activity first, paged by an opaque cursor."""
    rows = service.get_user_sessions(
        user,
        limit=query.limit,
        before=decode_cursor(query.cursor) if query.cursor else None,
        search=query.q,
        include_inactive=query.include_archived,
        pinned=query.pinned,
    )
    next_cursor = None
    if len(rows) == query.limit:
        next_cursor = encode_cursor(rows[-1].last_activity_at, rows[-1].id)
    return SessionPage(
        items=[SessionOut.model_validate(s, from_attributes=True) for s in rows],
        next_cursor=next_cursor,
    )


@router.get("/sessions/{session_id}", response_model=SessionOut, responses=SESSION_ERRORS)
def get_session(
    user: CurrentUser, service: Service, session_id: SessionId, _query: NoParams
) -> SessionOut:
    """One of the caller's sessions."""
    s = service.get_session(session_id, user=user)
    if s is None:
        raise SessionNotFound(session_id)
    return SessionOut.model_validate(s, from_attributes=True)


@router.patch(
    "/sessions/{session_id}",
    response_model=SessionOut,
    responses={**SESSION_ERRORS, **BODY_ERRORS},
)
def patch_session(
    user: CurrentUser,
    service: Service,
    session_id: SessionId,
    body: SessionPatchIn,
    _query: NoParams,
) -> SessionOut:
    """Rename, archive (is_active=false) or restore, pin or unpin one of the caller's sessions."""
    if body.title is None and body.is_active is None and body.pinned is None:
        raise APIError(422, "Send a title, is_active and/or pinned.")
    s = None
    if body.title is not None:
        s = service.rename_session(session_id, user=user, title=body.title)
    if body.is_active is not None:
        s = service.set_session_active(session_id, user=user, active=body.is_active)
    if body.pinned is not None:
        s = service.set_session_pinned(session_id, user=user, pinned=body.pinned)
    return SessionOut.model_validate(s, from_attributes=True)


@router.delete(
    "/sessions/{session_id}",
    status_code=204,
    response_class=Response,
    responses=SESSION_ERRORS,
)
def delete_session(
    user: CurrentUser, service: Service, session_id: SessionId, _query: NoParams
) -> Response:
    """Delete one of the caller's sessions and all its messages, for real."""
    service.delete_session(session_id, user=user)
    return Response(status_code=204)
