"""Stored search vector on PostgreSQL: a generated tsvector column with a GIN index replaces the
expression index, so a match no longer re-parses each candidate message; nothing on SQLite (FTS5)

Adding a stored generated column rewrites conversation_messages under an exclusive lock (every
row is parsed once): on a large table, plan the upgrade like any table rewrite.

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-01
"""

from alembic import op

from pa_core.schema_extras import (
    PG_CREATE,
    PG_DROP,
    PG_EXPRESSION_CREATE,
    PG_EXPRESSION_DROP,
)

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add content_tsv and its GIN index, then drop the expression index (PostgreSQL only)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in PG_CREATE + PG_EXPRESSION_DROP:
        op.execute(statement)


def downgrade() -> None:
    """Rebuild the expression index, then drop the stored column and its index."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in PG_EXPRESSION_CREATE + PG_DROP:
        op.execute(statement)
