"""Request bodies, query parameters and response bodies of the REST API (pydantic)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from pa_core.models import MAX_TITLE_CHARS
from pa_core.records import MessageRecord, SearchHit
from pa_core.validation import MAX_SEARCH_CHARS

MAX_PAGE = 500
MAX_MESSAGE_PAGE = 1000
MAX_SEARCH_HITS = 200
MAX_DB_INT = 2**63 - 1
_DATE_HELP = (
    "ISO 8601 date or date-time, e.g. 2026-11-01 or 2026-11-01T09:30:00+01:00; naive means UTC."
)


class _In(BaseModel):
    """Request bodies: unknown fields and type coercion are rejected (422)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class _Query(BaseModel):
    """Query parameters: a name the endpoint does not declare is a typo (422), e.g. `limt`."""

    model_config = ConfigDict(extra="forbid")


class NoQuery(_Query):
    """The query of an endpoint that takes no parameters."""


class SessionListQuery(_Query):
    """Query of GET /sessions."""

    limit: int = Field(default=50, ge=1, le=MAX_PAGE)
    cursor: str | None = Field(default=None, max_length=200)
    q: str | None = Field(default=None, max_length=MAX_SEARCH_CHARS, description="Title contains")
    include_archived: bool = False
    # documented as a plain boolean (absent = all): a nullable anyOf cannot be sent in a query
    pinned: Annotated[bool | None, WithJsonSchema({"type": "boolean"})] = Field(
        default=None, description="true: only pinned; false: only unpinned; absent: all"
    )


class MessageListQuery(_Query):
    """Query of GET /sessions/{session_id}/messages."""

    limit: int = Field(default=100, ge=1, le=MAX_MESSAGE_PAGE)
    before_id: int | None = Field(default=None, ge=1, le=MAX_DB_INT)


class ChatQuery(_Query):
    """Query of POST /chat."""

    stream: bool = Field(default=False, description="Stream the reply as server-sent events")


class SearchQuery(_Query):
    """Query of GET /search."""

    q: str = Field(min_length=1, max_length=MAX_SEARCH_CHARS)
    limit: int = Field(default=20, ge=1, le=MAX_SEARCH_HITS)


class MetricsQuery(_Query):
    """Query of GET /metrics."""

    since: str | None = Field(default=None, max_length=64, description=_DATE_HELP)
    until: str | None = Field(default=None, max_length=64, description=_DATE_HELP + " Exclusive.")
    scope: Literal["mine", "all"] | None = Field(
        default=None, description="Default: 'all' for admins, 'mine' for everyone else"
    )


class ErrorOut(BaseModel):
    """Every 4xx/5xx body: a sentence for a person, plus field details for validation errors."""

    detail: str = Field(description="What went wrong, in words a person can read.")
    errors: list[dict[str, Any]] | None = Field(
        default=None, description="For 422: one entry per rejected field (loc, msg, type)."
    )


class NewSessionIn(_In):
    """Body of POST /sessions/new (optional)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"title": "Trip planning"}]})

    title: str | None = Field(default=None, max_length=MAX_TITLE_CHARS)


class NewSessionOut(BaseModel):
    """A freshly created session."""

    session_id: str
    created_at: datetime
    title: str | None = None


class SessionPatchIn(_In):
    """Body of PATCH /sessions/{session_id}: a new title and/or archive flag."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"title": "Renamed"}, {"is_active": False}]}
    )

    title: str | None = Field(default=None, min_length=1, max_length=MAX_TITLE_CHARS)
    is_active: bool | None = Field(
        default=None, description="false archives the session (it leaves the list), true restores"
    )
    pinned: bool | None = Field(
        default=None, description="true pins the session (kept by retention), false unpins"
    )


class SessionOut(BaseModel):
    """One session of the caller."""

    session_id: str
    title: str | None
    is_active: bool
    message_count: int
    created_at: datetime
    last_activity_at: datetime
    pinned: bool = False


class SessionPage(BaseModel):
    """One page of sessions, newest activity first."""

    items: list[SessionOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )


class MessageOut(BaseModel):
    """One stored message."""

    id: int
    session_id: str
    role: str
    content: str
    tools_used: list[str]
    processing_time_ms: int | None
    token_count: int | None
    has_error: bool
    error_message: str | None
    metadata: dict[str, Any] | None
    created_at: datetime
    feedback: int | None = Field(default=None, description="1 helpful, -1 not helpful, or null")
    feedback_comment: str | None = None

    @classmethod
    def of(cls, m: MessageRecord) -> MessageOut:
        """From a MessageRecord."""
        meta = m.message_metadata if isinstance(m.message_metadata, dict) else None
        return cls(
            id=m.id,
            session_id=m.session_id,
            role=m.role,
            content=m.content,
            tools_used=list(m.tools_used or []),
            processing_time_ms=m.processing_time_ms,
            token_count=m.token_count,
            has_error=m.has_error,
            error_message=m.error_message,
            metadata=meta,
            created_at=m.created_at,
            feedback=m.feedback,
            feedback_comment=m.feedback_comment,
        )


class MessagePage(BaseModel):
    """Up to `limit` messages, oldest first."""

    items: list[MessageOut]
    next_before_id: int | None = Field(
        description="Pass as `before_id` to get the older page; null when none are left."
    )


class ChatIn(_In):
    """Body of POST /chat."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"message": "What is 12 * 7?"}]})

    message: str = Field(
        min_length=1, description="The user's message (1 to 200,000 characters; more → 413)."
    )
    session_id: str | None = Field(
        default=None, description="Continue this session; omit to start a new one."
    )


class ChatOut(BaseModel):
    """The assistant's reply (already stored in the session)."""

    session_id: str
    content: str
    tools_used: list[str]
    processing_time_ms: int | None
    token_count: int | None
    has_error: bool
    error_message: str | None
    message_id: int | None = Field(
        default=None, description="Id of the stored assistant message (null if not saved yet)"
    )
    title: str | None = Field(
        default=None, description="The title given to the session by its first exchange"
    )
    saved: bool = Field(
        default=True,
        description="False when the database went away mid-turn: the exchange is kept on the "
        "server's disk and written once the database is back",
    )


class SearchHitOut(BaseModel):
    """A full-text search hit."""

    session_id: str
    message_id: int
    session_title: str | None
    snippet: str
    role: str
    created_at: datetime

    @classmethod
    def of(cls, h: SearchHit) -> SearchHitOut:
        """From a SearchHit."""
        return cls(**h._asdict())


class SearchOut(BaseModel):
    """Search hits, newest first."""

    items: list[SearchHitOut]


class DailyOut(BaseModel):
    """One UTC day of the metrics series."""

    day: date
    sessions: int
    messages: int
    errors: int
    processing_time_mean_ms: float | None


class UserMetricsOut(BaseModel):
    """One user's totals (admins, everyone's metrics)."""

    username: str
    sessions: int
    messages: int
    errors: int
    tokens: int


class MetricsOut(BaseModel):
    """Session metrics over messages created in [since, until)."""

    scope: str = Field(description="'mine' or 'all'")
    since: datetime | None
    until: datetime | None
    sessions: int
    sessions_created: int
    messages: int
    user_messages: int
    assistant_messages: int
    active_days: int
    messages_per_session: float
    processing_time_mean_ms: float | None
    processing_time_p95_ms: float | None
    errors: int
    error_rate: float
    total_tokens: int
    tool_usage: dict[str, int]
    daily: list[DailyOut]
    per_user: list[UserMetricsOut] | None


class HealthOut(BaseModel):
    """Liveness and database reachability."""

    status: str = Field(description="'ok' or 'unavailable'")
    database: str = Field(description="'reachable' or 'unreachable'")
