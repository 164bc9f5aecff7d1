"""Read-only records returned by the service; usable after the database session closed."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, NamedTuple


class UserRecord(NamedTuple):
    """A row of `users`."""

    id: int
    username: str
    display_name: str | None
    email: str | None
    role: str
    created_at: datetime
    disabled_at: datetime | None = None

    @property
    def is_admin(self) -> bool:
        """True for role 'admin'."""
        return self.role == "admin"

    @property
    def is_disabled(self) -> bool:
        """True when an administrator disabled the account."""
        return self.disabled_at is not None


class MessageRecord(NamedTuple):
    """A row of `conversation_messages`."""

    id: int
    session_id: str
    user_id: int
    role: str
    content: str
    tools_used: list[str] | None
    processing_time_ms: int | None
    token_count: int | None
    has_error: bool
    error_message: str | None
    message_metadata: dict[str, Any] | None
    created_at: datetime
    client_id: str | None = None
    feedback: int | None = None
    feedback_comment: str | None = None


class SessionRecord(NamedTuple):
    """A row of `conversation_sessions` plus `messages` (a list when loaded, else None)."""

    id: int
    session_id: str
    user_id: int
    title: str | None
    description: str | None
    context_data: Any
    session_metadata: Any
    is_active: bool
    message_count: int
    created_at: datetime
    last_activity_at: datetime
    pinned: bool = False
    messages: list[MessageRecord] | None = None


class SearchHit(NamedTuple):
    """One full-text search hit with a short snippet around the match."""

    session_id: str
    message_id: int
    session_title: str | None
    snippet: str
    created_at: datetime
    role: str


class DailyMetrics(NamedTuple):
    """One day (UTC) of the analytics series."""

    day: date
    sessions: int
    messages: int
    errors: int
    processing_time_mean_ms: float | None
    feedback_up: int = 0
    feedback_down: int = 0
    processing_time_p50_ms: float | None = None
    processing_time_p95_ms: float | None = None
    tokens: int | None = None  # None: no message of the day had a token count reported


class UserMetrics(NamedTuple):
    """One user's totals, for the admin breakdown."""

    username: str
    sessions: int
    messages: int
    errors: int
    tokens: int


class SessionMetrics(NamedTuple):
    """Figures for the analytics page over a date range (messages created in the range)."""

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
    daily: list[DailyMetrics]
    per_user: list[UserMetrics] | None
    feedback_up: int = 0
    feedback_down: int = 0
    processing_time_p50_ms: float | None = None
    token_messages: int = 0  # messages with a token count reported (0: show no token figure)
    errors_by_kind: dict[str, int] | None = None  # failed replies by kind, most frequent first


class ImportReport(NamedTuple):
    """What an import did: sessions imported and skipped (already there), messages, warnings."""

    sessions_imported: int
    sessions_skipped: int
    messages_imported: int
    warnings: list[str]


class ApiTokenRecord(NamedTuple):
    """A REST API token's metadata (never the token itself)."""

    id: int
    user_id: int
    name: str
    token_prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        """Not revoked and not expired."""
        return self.revoked_at is None and (
            self.expires_at is None or self.expires_at > datetime.now(UTC)
        )


class MatchedMessage(NamedTuple):
    """One message of a conversation search result; `parts` are (text, is_match) pieces."""

    message_id: int
    role: str
    created_at: datetime
    parts: tuple[tuple[str, bool], ...]


class ConversationHits(NamedTuple):
    """A conversation matching a search: its newest matching messages, newest first."""

    session_id: str
    session_title: str | None
    pinned: bool
    is_active: bool
    matches: list[MatchedMessage]
    match_count: int  # matches among the hits read (at most the search window)


class UserOverview(NamedTuple):
    """One row of the admin page's user table: the account, its activity and counts only."""

    id: int
    username: str
    display_name: str | None
    email: str | None
    role: str
    created_at: datetime
    disabled_at: datetime | None
    sessions: int
    messages: int
    last_activity_at: datetime | None


class AuditEvent(NamedTuple):
    """A row of `audit_log`: who did what, when, to whom; details never hold content or secrets."""

    id: int
    at: datetime
    actor_user_id: int | None
    actor_username: str
    action: str
    target: str | None
    details: dict[str, Any] | None
