"""Stored search vector (placeholder, filled by the search work)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet."""


def downgrade() -> None:
    """Nothing yet."""
