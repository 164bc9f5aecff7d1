"""Daily metric roll-ups (placeholder, filled by the metrics work)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet."""


def downgrade() -> None:
    """Nothing yet."""
