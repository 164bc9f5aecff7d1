"""The privileges a non-superuser application role needs (docs/SECURITY.md, "The app's role").

Row-level security (migration 0006) holds only for roles that are neither superusers nor
BYPASSRLS; the migration itself creates and grants nothing. These statements, run by the owner
of the tables, give an existing role exactly what the app, the API and the CLI use.
"""

from __future__ import annotations

import re

from pa_core.errors import ValidationError

ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def grant_statements(role: str) -> list[str]:
    """The GRANTs that let `role` run the app on a migrated database (schema public)."""
    if not isinstance(role, str) or not ROLE_NAME.fullmatch(role):
        raise ValidationError("A role name is 1-63 lower-case letters, digits or '_'.")
    return [
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {role}",
    ]
