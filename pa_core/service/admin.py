"""Administration in the caller's transaction: the user overview, roles, disabling, the admin check.

Nothing here reads message content: the overview counts sessions and messages per user from the
sessions table (its maintained `message_count`) in one grouped query.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, func, select, update

from pa_core.errors import PermissionDenied, ValidationError
from pa_core.records import UserOverview, UserRecord
from pa_core.service.tables import SESSIONS, USER_COLUMNS, USERS


def require_admin(conn: Connection, actor: UserRecord) -> UserRecord:
    """The actor's current row when it is an enabled admin; PermissionDenied otherwise.

    The row is read again, so a record from before a role change or a disable does not count.
    """
    actor_id = getattr(actor, "id", None)
    row = None
    if isinstance(actor_id, int) and not isinstance(actor_id, bool):
        row = conn.execute(select(*USER_COLUMNS).where(USERS.c.id == actor_id)).first()
    user = UserRecord._make(row) if row else None
    if user is None or not user.is_admin or user.is_disabled:
        raise PermissionDenied()
    return user


def user_overview(conn: Connection) -> list[UserOverview]:
    """Every user (by name, any case) with session and message counts and last activity, in
    one query."""
    per_user = (
        select(
            SESSIONS.c.user_id,
            func.count().label("sessions"),
            func.coalesce(func.sum(SESSIONS.c.message_count), 0).label("messages"),
            func.max(SESSIONS.c.last_activity_at).label("last_activity_at"),
        )
        .group_by(SESSIONS.c.user_id)
        .subquery()
    )
    rows = conn.execute(
        select(
            *USER_COLUMNS,
            func.coalesce(per_user.c.sessions, 0),
            func.coalesce(per_user.c.messages, 0),
            per_user.c.last_activity_at,
        )
        .outerjoin(per_user, per_user.c.user_id == USERS.c.id)
        .order_by(func.lower(USERS.c.username), USERS.c.username)
    ).all()
    return [_overview(row) for row in rows]


def _overview(row) -> UserOverview:
    """A UserOverview from a row of user_overview's query (last activity as aware UTC)."""
    values = list(row)
    last = values[-1]
    if isinstance(last, str):  # SQLite returns max() of a timestamp column as text
        last = datetime.fromisoformat(last)
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=UTC)  # stored as UTC
    values[-1] = last
    values[-3:-1] = [int(values[-3]), int(values[-2])]
    return UserOverview._make(values)


def find_by_id(conn: Connection, user_id: int) -> UserRecord | None:
    """The user row with id `user_id`, or None."""
    row = conn.execute(select(*USER_COLUMNS).where(USERS.c.id == user_id)).first()
    return UserRecord._make(row) if row else None


def other_enabled_admins(conn: Connection, user_id: int) -> int:
    """How many enabled admins there are besides user `user_id`."""
    return conn.execute(
        select(func.count()).where(
            USERS.c.role == "admin", USERS.c.disabled_at.is_(None), USERS.c.id != user_id
        )
    ).scalar_one()


def keep_an_admin(conn: Connection, target: UserRecord) -> None:
    """ValidationError when `target` is the last enabled admin (an install always keeps one)."""
    if target.is_admin and not target.is_disabled and not other_enabled_admins(conn, target.id):
        raise ValidationError(f"{target.username!r} is the last administrator; keep at least one.")


def set_fields(conn: Connection, user: UserRecord, **values) -> UserRecord:
    """Write `values` (role, disabled_at) on the user's row; the updated record."""
    conn.execute(update(USERS).where(USERS.c.id == user.id).values(**values))
    return user._replace(**values)
