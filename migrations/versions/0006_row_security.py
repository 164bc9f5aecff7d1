"""Row-level security on PostgreSQL: every user-data table shows the app's role only the rows of
the user its transaction is scoped to (docs/SECURITY.md); nothing on SQLite

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# The transaction's scope, set by pa_core.service.row_scope with set_config(..., true).
# NULLIF: a setting once set in a pooled session reads '' (not NULL) after its transaction.
SCOPED_USER = "NULLIF(current_setting('pa.user_id', true), '')::int"
EVERYONE = "current_setting('pa.scope', true) = 'everyone'"
OWNER = f"(user_id = {SCOPED_USER} OR {EVERYONE})"

# Tables whose rows belong to one user (each has user_id): read and written in that user's scope.
OWNED_TABLES = ("conversation_sessions", "conversation_messages", "api_tokens")
# Administrative tables, when present: written in any scope, read only on the everyone path.
ADMIN_TABLES = ("audit_log",)
POLICY = "pa_isolation"


def _tables(names: tuple[str, ...]) -> list[str]:
    """Those of `names` that exist in this database."""
    present = set(sa.inspect(op.get_bind()).get_table_names())
    return [name for name in names if name in present]


def upgrade() -> None:
    """ENABLE and FORCE row level security with one policy per table (PostgreSQL only)."""
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite has no row-level security: only the service's checks apply
    for table in _tables(OWNED_TABLES):
        _protect(table)
        op.execute(f"CREATE POLICY {POLICY} ON {table} USING {OWNER} WITH CHECK {OWNER}")
    for table in _tables(ADMIN_TABLES):
        _protect(table)
        op.execute(f"CREATE POLICY {POLICY} ON {table} FOR SELECT USING ({EVERYONE})")
        op.execute(f"CREATE POLICY {POLICY}_update ON {table} FOR UPDATE USING ({EVERYONE})")
        op.execute(f"CREATE POLICY {POLICY}_delete ON {table} FOR DELETE USING ({EVERYONE})")
        scoped = f"({EVERYONE} OR {SCOPED_USER} IS NOT NULL)"
        op.execute(f"CREATE POLICY {POLICY}_insert ON {table} FOR INSERT WITH CHECK {scoped}")


def _protect(table: str) -> None:
    """Row security on, also for the table's owner (FORCE); superusers still bypass it."""
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")


def downgrade() -> None:
    """Drop the policies and turn row level security off again."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in _tables(OWNED_TABLES + ADMIN_TABLES):
        for suffix in ("", "_update", "_delete", "_insert"):
            op.execute(f"DROP POLICY IF EXISTS {POLICY}{suffix} ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
