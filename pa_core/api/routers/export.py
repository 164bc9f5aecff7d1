"""CSV export of the caller's messages: all of them, or one session's."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from pa_core.api.deps import CurrentUser, NoParams, Service, SessionId, State
from pa_core.api.responses import AUTH_ERRORS, CSV_BODY, EXPORT_ERRORS, SESSION_ERRORS
from pa_core.api.state import ApiState
from pa_core.api.streaming import export_stream
from pa_core.errors import SessionNotFound
from pa_core.records import UserRecord

router = APIRouter(tags=["export"])


@router.get(
    "/export.csv",
    response_class=StreamingResponse,
    responses={**AUTH_ERRORS, **EXPORT_ERRORS, **CSV_BODY},
)
def export_all(
    state: State, user: CurrentUser, service: Service, _query: NoParams
) -> StreamingResponse:
    """Every message of the caller as CSV."""
    return csv_response(
        state, user, lambda: service.export_csv(user), "personal-assistant-export.csv"
    )


@router.get(
    "/sessions/{session_id}/export.csv",
    response_class=StreamingResponse,
    responses={**SESSION_ERRORS, **EXPORT_ERRORS, **CSV_BODY},
)
def export_session(
    state: State,
    user: CurrentUser,
    service: Service,
    session_id: SessionId,
    _query: NoParams,
) -> StreamingResponse:
    """The messages of one of the caller's sessions as CSV."""
    s = service.get_session(session_id, user=user)
    if s is None:
        raise SessionNotFound(session_id)
    return csv_response(
        state, user, lambda: service.export_csv(user, [s.session_id]), f"session-{s.session_id}.csv"
    )


def csv_response(
    state: ApiState, user: UserRecord, open_chunks: Callable[[], Iterator[str]], filename: str
) -> StreamingResponse:
    """Stream CSV chunks (UTF-8, no BOM) under the user's export cap and the send timeout; the
    first two are read now so a failure is a 503."""
    return export_stream(
        state.export_slots,
        user.id,
        open_chunks,
        timeout_s=state.settings.stream_timeout_s,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
