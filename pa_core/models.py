"""SQLAlchemy 2.x typed ORM models: users, conversation_sessions, conversation_messages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

MAX_TITLE_CHARS = 255
MAX_USERNAME_CHARS = 150
MAX_CLIENT_ID_CHARS = 64


def utcnow() -> datetime:
    """The current time, timezone-aware UTC, microsecond precision (set in Python)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC timestamps on every backend (SQLite stores naive ISO text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Store UTC; naive values are taken as UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return aware UTC datetimes."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


JSONType = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
# SQLite needs INTEGER PRIMARY KEY for a rowid alias; PostgreSQL gets BIGINT.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Declarative base of every table."""

    metadata = MetaData(naming_convention={"uq": "uq_%(table_name)s_%(column_0_name)s"})


class User(Base):
    """A person who logs in; credentials stay in the auth config file."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(MAX_USERNAME_CHARS), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="user", server_default="user")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Set by an administrator: a disabled user cannot log in (form, API, token) until enabled.
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ConversationSession(Base):
    """One conversation; `session_id` is the UUID string that lives in the page URL."""

    __tablename__ = "conversation_sessions"
    __table_args__ = (Index("ix_sessions_last_activity", "last_activity_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[str] = mapped_column(String(36), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str | None] = mapped_column(String(MAX_TITLE_CHARS))
    description: Mapped[str | None] = mapped_column(Text)
    context_data: Mapped[Any | None] = mapped_column(JSONType)
    session_metadata: Mapped[Any | None] = mapped_column(JSONType)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    message_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


class ConversationMessage(Base):
    """One message; order within a session is insertion order (`id`)."""

    __tablename__ = "conversation_messages"
    __table_args__ = (
        Index("ix_messages_session_id_id", "session_id", "id"),
        Index("ix_messages_user_created", "user_id", "created_at"),
        Index("ix_messages_created_at", "created_at"),
        # Idempotent writes: one message per (session, client_id); NULL ids never collide.
        Index("uq_messages_session_client", "session_id", "client_id", unique=True),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    session_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("conversation_sessions.session_id", ondelete="CASCADE")
    )
    # Denormalised owner (a session never changes owner): isolation and search filter on it.
    user_id: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    tools_used: Mapped[Any | None] = mapped_column(JSONType)
    processing_time_ms: Mapped[int | None] = mapped_column(Integer)
    token_count: Mapped[int | None] = mapped_column(Integer)
    has_error: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    error_message: Mapped[str | None] = mapped_column(Text)
    message_metadata: Mapped[Any | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    client_id: Mapped[str | None] = mapped_column(String(MAX_CLIENT_ID_CHARS))
    feedback: Mapped[int | None] = mapped_column(SmallInteger)
    feedback_comment: Mapped[str | None] = mapped_column(Text)


# The session list: a user's sessions by last activity, newest first (keyset pagination).
Index(
    "ix_sessions_user_activity",
    ConversationSession.user_id,
    ConversationSession.last_activity_at.desc(),
    ConversationSession.id.desc(),
)


class ApiToken(Base):
    """A per-user REST API token; only its SHA-256 is stored (the CLI shows the token once)."""

    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    token_prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LoginAttempt(Base):
    """Failed logins of one account or one client address: the throttle every process shares.

    `key` is a digest ("account:" or "address:" + SHA-256), so no typed username is stored.
    """

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_last_failure_at", "last_failure_at"),)

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AuditLog(Base):
    """Who did what and when, for administrative and sensitive actions (no content, no secrets)."""

    __tablename__ = "audit_log"
    # No INSERT ... RETURNING: under row-level security the app may append rows it cannot read.
    __table_args__ = {"sqlite_autoincrement": True, "implicit_returning": False}

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # NULL for the command line; the username is kept so the history survives a deleted user.
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_username: Mapped[str] = mapped_column(String(MAX_USERNAME_CHARS))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(255))
    details: Mapped[Any | None] = mapped_column(JSONType)


# -- metric roll-ups (migration 0009; written on PostgreSQL only, see service/rollup_fill.py) --


class MetricBucket(Base):
    """A closed UTC day (span 24) or hour (span 1) whose roll-up rows are current."""

    __tablename__ = "metric_buckets"

    span_hours: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    bucket: Mapped[datetime] = mapped_column(DateTime, primary_key=True)  # naive UTC start
    filled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    p50_ms: Mapped[int | None] = mapped_column(Integer)  # a whole day's percentiles
    p95_ms: Mapped[int | None] = mapped_column(Integer)


class MetricUserBucket(Base):
    """A closed bucket whose roll-up rows of one user's own metrics (owner = user) are current."""

    __tablename__ = "metric_user_buckets"

    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    span_hours: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    bucket: Mapped[datetime] = mapped_column(DateTime, primary_key=True)
    filled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    p50_ms: Mapped[int | None] = mapped_column(Integer)  # a whole day's percentiles
    p95_ms: Mapped[int | None] = mapped_column(Integer)


class MetricSession(Base):
    """One session's figures in one bucket: sessions, users, totals and the daily series."""

    __tablename__ = "metric_sessions"

    owner: Mapped[int] = mapped_column(Integer, primary_key=True)  # 0: everyone's aggregates
    span_hours: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    bucket: Mapped[datetime] = mapped_column(DateTime, primary_key=True)
    session_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer)
    messages: Mapped[int] = mapped_column(Integer)
    user_messages: Mapped[int] = mapped_column(Integer)
    assistant_messages: Mapped[int] = mapped_column(Integer)
    errors: Mapped[int] = mapped_column(Integer)
    tokens: Mapped[int] = mapped_column(BigInteger)
    token_messages: Mapped[int] = mapped_column(Integer)
    feedback_up: Mapped[int] = mapped_column(Integer)
    feedback_down: Mapped[int] = mapped_column(Integer)
    time_sum: Mapped[int] = mapped_column(BigInteger)
    time_count: Mapped[int] = mapped_column(Integer)


class MetricLatency(Base):
    """How many replies of a bucket took exactly `ms` (merged into exact nearest-rank ranks)."""

    __tablename__ = "metric_latency"

    owner: Mapped[int] = mapped_column(Integer, primary_key=True)
    span_hours: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    bucket: Mapped[datetime] = mapped_column(DateTime, primary_key=True)
    ms: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class MetricError(Base):
    """Failed messages of a bucket per first line of the error (`line_key`: its MD5)."""

    __tablename__ = "metric_errors"

    owner: Mapped[int] = mapped_column(Integer, primary_key=True)
    span_hours: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    bucket: Mapped[datetime] = mapped_column(DateTime, primary_key=True)
    line_key: Mapped[str] = mapped_column(String(32), primary_key=True)
    first_line: Mapped[str] = mapped_column(Text)
    n: Mapped[int] = mapped_column(Integer)


class MetricTool(Base):
    """How often a tool was used by the replies of a bucket."""

    __tablename__ = "metric_tools"

    owner: Mapped[int] = mapped_column(Integer, primary_key=True)
    span_hours: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    bucket: Mapped[datetime] = mapped_column(DateTime, primary_key=True)
    tool: Mapped[str] = mapped_column(Text, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


# Everyone's metrics count the sessions created in the range.
Index("ix_sessions_created_at", ConversationSession.created_at)
