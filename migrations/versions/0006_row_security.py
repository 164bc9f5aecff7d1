"""Row-level security on PostgreSQL (reserved; filled by the isolation work)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet."""


def downgrade() -> None:
    """Nothing yet."""
