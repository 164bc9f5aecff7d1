"""GET /metrics: session metrics of the caller, or of everyone for admins."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from pa_core.api.deps import CurrentUser, Service
from pa_core.api.errors import APIError
from pa_core.api.responses import ADMIN_ERRORS, AUTH_ERRORS
from pa_core.api.schemas import MetricsOut, MetricsQuery

router = APIRouter(tags=["metrics"])


@router.get("/metrics", response_model=MetricsOut, responses={**AUTH_ERRORS, **ADMIN_ERRORS})
def metrics(
    user: CurrentUser, service: Service, query: Annotated[MetricsQuery, Query()]
) -> MetricsOut:
    """Session metrics: the caller's, or everyone's for admins."""
    scope = query.scope or ("all" if user.is_admin else "mine")
    if scope == "all" and not user.is_admin:
        raise APIError(403, "Only admins can see everyone's metrics.")
    m = service.session_metrics(
        user=None if scope == "all" else user,
        since=parse_instant("since", query.since),
        until=parse_instant("until", query.until),
    )
    return MetricsOut.model_validate({**m._asdict(), "scope": scope}, from_attributes=True)


def parse_instant(name: str, value: str | None) -> datetime | None:
    """An ISO 8601 date or date-time as aware UTC (naive means UTC); APIError 422 otherwise."""
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value.strip())
        return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    except (OverflowError, ValueError):
        raise APIError(
            422, f"{name} must be an ISO 8601 date or date-time, e.g. 2026-11-01T00:00:00Z."
        ) from None
