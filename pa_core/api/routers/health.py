"""GET /health: liveness and database reachability, without authentication."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from pa_core.api.deps import NoParams, State
from pa_core.api.responses import INVALID
from pa_core.api.schemas import HealthOut
from pa_core.errors import StorageError

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    response_model=HealthOut,
    responses={
        **INVALID,
        503: {"model": HealthOut, "description": "The database is not reachable"},
    },
)
def health(state: State, _query: NoParams) -> JSONResponse:
    """Liveness and database reachability (no authentication)."""
    try:
        ok = state.service().ping()
    except StorageError:
        ok = False
    body = HealthOut(
        status="ok" if ok else "unavailable", database="reachable" if ok else "unreachable"
    )
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)
