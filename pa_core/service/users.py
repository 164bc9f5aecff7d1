"""User rows: look-up, creation on first login, profile updates (in the caller's transaction)."""

from __future__ import annotations

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from pa_core.models import utcnow
from pa_core.records import UserRecord
from pa_core.service.tables import USER_COLUMNS, USERS
from pa_core.validation import check_user_role


def profile_changes(
    *, display_name: str | None, email: str | None, role: str | None
) -> dict[str, str]:
    """The profile fields given (not None) for ensure_user; an unknown role is refused."""
    if role is not None:
        check_user_role(role)
    given = {"display_name": display_name, "email": email, "role": role}
    return {k: v for k, v in given.items() if v is not None}


def find_user(conn: Connection, username: str) -> UserRecord | None:
    """The user row for `username`, or None."""
    row = conn.execute(select(*USER_COLUMNS).where(USERS.c.username == username)).first()
    return UserRecord._make(row) if row else None


def list_users(conn: Connection) -> list[UserRecord]:
    """Every user, by username."""
    rows = conn.execute(select(*USER_COLUMNS).order_by(USERS.c.username)).all()
    return [UserRecord._make(r) for r in rows]


def update_user(conn: Connection, user: UserRecord, changes: dict) -> UserRecord:
    """Write the fields of `changes` that differ from `user`; the updated record."""
    stale = {k: v for k, v in changes.items() if getattr(user, k) != v}
    if not stale:
        return user
    conn.execute(update(USERS).where(USERS.c.id == user.id).values(**stale))
    return user._replace(**stale)


def insert_user(conn: Connection, username: str, changes: dict) -> UserRecord | None:
    """Create the user row; None when another process created it first (a savepoint rolls back)."""
    values = {"username": username, "role": "user", "created_at": utcnow(), **changes}
    try:
        with conn.begin_nested():
            new_id = conn.execute(insert(USERS).values(**values).returning(USERS.c.id))
            new_id = new_id.scalar_one()
    except IntegrityError:
        return None
    return UserRecord(
        id=new_id,
        username=username,
        display_name=values.get("display_name"),
        email=values.get("email"),
        role=values["role"],
        created_at=values["created_at"],
    )
