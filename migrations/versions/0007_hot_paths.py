"""Hot paths: session activity and append (placeholder, filled by the performance work)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet."""


def downgrade() -> None:
    """Nothing yet."""
