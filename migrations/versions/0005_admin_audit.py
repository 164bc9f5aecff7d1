"""Administration: disabled users and the audit log (reserved; filled by the admin work)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet."""


def downgrade() -> None:
    """Nothing yet."""
