"""CSV export of the caller's messages: all of them, or one session's."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from pa_core.api.deps import CurrentUser, NoParams, Service, SessionId
from pa_core.api.responses import AUTH_ERRORS, CSV_BODY, SESSION_ERRORS
from pa_core.errors import SessionNotFound

router = APIRouter(tags=["export"])


@router.get("/export.csv", response_class=StreamingResponse, responses={**AUTH_ERRORS, **CSV_BODY})
def export_all(user: CurrentUser, service: Service, _query: NoParams) -> StreamingResponse:
    """Every message of the caller as CSV."""
    return csv_response(service.export_csv(user), "personal-assistant-export.csv")


@router.get(
    "/sessions/{session_id}/export.csv",
    response_class=StreamingResponse,
    responses={**SESSION_ERRORS, **CSV_BODY},
)
def export_session(
    user: CurrentUser,
    service: Service,
    session_id: SessionId,
    _query: NoParams,
) -> StreamingResponse:
    """The messages of one of the caller's sessions as CSV."""
    s = service.get_session(session_id, user=user)
    if s is None:
        raise SessionNotFound(session_id)
    chunks = service.export_csv(user, [s.session_id])
    return csv_response(chunks, f"session-{s.session_id}.csv")


def csv_response(chunks: Iterator[str], filename: str) -> StreamingResponse:
    """Stream CSV chunks (UTF-8, no BOM); the first two are read now so a failure is a 503."""
    head: list[str] = []
    for chunk in chunks:
        head.append(chunk)
        if len(head) == 2:
            break

    def body() -> Iterator[str]:
        yield from head
        yield from chunks

    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
