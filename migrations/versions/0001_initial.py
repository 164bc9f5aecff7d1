"""Initial schema: users, conversation_sessions, conversation_messages, full-text search.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from pa_core.models import UTCDateTime
from pa_core.schema_extras import PG_EXPRESSION_CREATE as PG_CREATE
from pa_core.schema_extras import PG_EXPRESSION_DROP as PG_DROP
from pa_core.schema_extras import SQLITE_CREATE, SQLITE_DROP

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

JSONType = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True), "postgresql"
)
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create the three tables, their indexes and the full-text search objects."""
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(150), nullable=False),
        sa.Column("display_name", sa.String(255), nullable=True),
        sa.Column("email", sa.String(255), nullable=True),
        sa.Column("role", sa.String(16), nullable=False, server_default="user"),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("username", name="uq_users_username"),
    )
    op.create_table(
        "conversation_sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("session_id", sa.String(36), nullable=False),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("title", sa.String(255), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("context_data", JSONType, nullable=True),
        sa.Column("session_metadata", JSONType, nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False, server_default=sa.text("true")),
        sa.Column("message_count", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_activity_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("session_id", name="uq_conversation_sessions_session_id"),
    )
    op.create_index(
        "ix_sessions_user_activity",
        "conversation_sessions",
        ["user_id", sa.column("last_activity_at").desc(), sa.column("id").desc()],
    )
    op.create_index("ix_sessions_last_activity", "conversation_sessions", ["last_activity_at"])
    op.create_table(
        "conversation_messages",
        sa.Column("id", BigId, primary_key=True),
        sa.Column(
            "session_id",
            sa.String(36),
            sa.ForeignKey("conversation_sessions.session_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("tools_used", JSONType, nullable=True),
        sa.Column("processing_time_ms", sa.Integer(), nullable=True),
        sa.Column("token_count", sa.Integer(), nullable=True),
        sa.Column("has_error", sa.Boolean(), nullable=False, server_default=sa.text("false")),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("message_metadata", JSONType, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_messages_session_id_id", "conversation_messages", ["session_id", "id"])
    op.create_index("ix_messages_user_created", "conversation_messages", ["user_id", "created_at"])
    op.create_index("ix_messages_created_at", "conversation_messages", ["created_at"])
    for statement in SQLITE_CREATE if _dialect() == "sqlite" else PG_CREATE:
        op.execute(statement)


def downgrade() -> None:
    """Drop everything upgrade() created."""
    for statement in SQLITE_DROP if _dialect() == "sqlite" else PG_DROP:
        op.execute(statement)
    op.drop_table("conversation_messages")
    op.drop_table("conversation_sessions")
    op.drop_table("users")


def _dialect() -> str:
    """The name of the migrated database's dialect."""
    return op.get_bind().dialect.name
