"""Stage 2 columns: pinned sessions, idempotent client ids and feedback on messages.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add sessions.pinned, messages.client_id (unique per session) and message feedback."""
    # Plain ALTER TABLE on both backends (no batch copy on SQLite: it would drop the FTS triggers).
    op.add_column(
        "conversation_sessions",
        sa.Column("pinned", sa.Boolean(), nullable=False, server_default=sa.text("false")),
    )
    op.add_column("conversation_messages", sa.Column("client_id", sa.String(64), nullable=True))
    op.add_column("conversation_messages", sa.Column("feedback", sa.SmallInteger(), nullable=True))
    op.add_column("conversation_messages", sa.Column("feedback_comment", sa.Text(), nullable=True))
    op.create_index(
        "uq_messages_session_client",
        "conversation_messages",
        ["session_id", "client_id"],
        unique=True,
    )


def downgrade() -> None:
    """Drop the stage 2 columns."""
    op.drop_index("uq_messages_session_client", table_name="conversation_messages")
    for column in ("feedback_comment", "feedback", "client_id"):
        op.drop_column("conversation_messages", column)
    op.drop_column("conversation_sessions", "pinned")
