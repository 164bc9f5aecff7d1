"""Login attempts: the failed-login throttle shared by every process (reserved).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet."""


def downgrade() -> None:
    """Nothing yet."""
