"""Administration: users.disabled_at and the audit_log table.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from pa_core.models import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

JSONType = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True), "postgresql"
)
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Add users.disabled_at (NULL: every existing user stays enabled) and create audit_log."""
    # Plain ALTER TABLE on both backends (no batch copy on SQLite: it would drop the FTS triggers).
    op.add_column("users", sa.Column("disabled_at", UTCDateTime(), nullable=True))
    op.create_table(
        "audit_log",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column(
            "actor_user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("actor_username", sa.String(150), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(255), nullable=True),
        sa.Column("details", JSONType, nullable=True),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    """Drop audit_log and users.disabled_at."""
    op.drop_table("audit_log")
    # SQLite 3.35+ drops a plain column in place (no table copy, so no trigger is lost).
    op.drop_column("users", "disabled_at")
