"""Login attempts: the failed-login throttle shared by every process.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from pa_core.models import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create login_attempts (one row per throttled account or client address)."""
    op.create_table(
        "login_attempts",
        sa.Column("key", sa.String(80), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("last_failure_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_login_attempts_last_failure_at", "login_attempts", ["last_failure_at"])


def downgrade() -> None:
    """Drop login_attempts."""
    op.drop_index("ix_login_attempts_last_failure_at", table_name="login_attempts")
    op.drop_table("login_attempts")
