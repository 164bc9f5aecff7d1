"""GET /search: full-text search over the caller's messages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from pa_core.api.deps import CurrentUser, Service
from pa_core.api.responses import AUTH_ERRORS
from pa_core.api.schemas import SearchHitOut, SearchOut, SearchQuery

router = APIRouter(tags=["search"])


@router.get("/search", response_model=SearchOut, responses=AUTH_ERRORS)
def search(
    user: CurrentUser, service: Service, query: Annotated[SearchQuery, Query()]
) -> SearchOut:
    """Full-text search over the caller's messages (websearch syntax), newest first."""
    hits = service.search_messages(user, query.q, limit=query.limit)
    return SearchOut(items=[SearchHitOut.of(h) for h in hits])
