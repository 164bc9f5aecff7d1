"""Session rows: create, read, keyset pages, update, delete, cleanup (caller's transaction)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    tuple_,
    update,
)

from pa_core.errors import SessionNotFound
from pa_core.models import utcnow
from pa_core.records import SessionRecord
from pa_core.service.tables import MESSAGES, SESSION_COLUMNS, SESSIONS
from pa_core.textsafe import clean_text

CLEANUP_BATCH = 500


def insert_session(
    conn: Connection,
    *,
    user_id: int,
    title: str | None,
    context_data: Any,
    session_id: str | None = None,
) -> SessionRecord:
    """A new, empty session row (with a new id unless `session_id` is given)."""
    now = utcnow()
    values = {
        "session_id": session_id or str(uuid.uuid4()),
        "user_id": user_id,
        "title": title,
        "description": None,
        "context_data": context_data,
        "session_metadata": None,
        "is_active": True,
        "message_count": 0,
        "created_at": now,
        "last_activity_at": now,
    }
    new_id = conn.execute(insert(SESSIONS).values(**values).returning(SESSIONS.c.id))
    return SessionRecord(id=new_id.scalar_one(), **values)


def find_session(conn: Connection, sid: str, *, user_id: int) -> SessionRecord | None:
    """The session row `sid` when it belongs to `user_id` (messages not loaded)."""
    row = conn.execute(
        select(*SESSION_COLUMNS).where(SESSIONS.c.session_id == sid, SESSIONS.c.user_id == user_id)
    ).first()
    return None if row is None else SessionRecord(*row)


def restore_session(conn: Connection, sid: str, *, user_id: int) -> SessionRecord:
    """The user's session `sid`, inserted with that id when no session has it; SessionNotFound
    when it is another user's."""
    owner = conn.execute(select(SESSIONS.c.user_id).where(SESSIONS.c.session_id == sid)).scalar()
    if owner is None:
        return insert_session(conn, user_id=user_id, title=None, context_data=None, session_id=sid)
    found = find_session(conn, sid, user_id=user_id) if owner == user_id else None
    if found is None:
        raise SessionNotFound(sid)
    return found


def owns(conn: Connection, sid: str, *, user_id: int) -> bool:
    """True when session `sid` exists and belongs to `user_id`."""
    owned = select(SESSIONS.c.id).where(SESSIONS.c.session_id == sid, SESSIONS.c.user_id == user_id)
    return conn.execute(owned).first() is not None


def list_sessions(
    conn: Connection,
    *,
    user_id: int,
    limit: int,
    before: SessionRecord | None,
    search: str | None,
    include_inactive: bool,
    include_empty: bool,
    pinned: bool | None = None,
    archived: bool | None = None,
) -> list[SessionRecord]:
    """One page of the user's sessions, newest activity first (one SELECT); `pinned` and
    `archived` (True: only archived) filter."""
    query = (
        select(*SESSION_COLUMNS)
        .where(SESSIONS.c.user_id == user_id)
        .order_by(SESSIONS.c.last_activity_at.desc(), SESSIONS.c.id.desc())
        .limit(limit)
    )
    if archived:
        query = query.where(SESSIONS.c.is_active.is_(False))
    elif not include_inactive:
        query = query.where(SESSIONS.c.is_active.is_(True))
    if pinned is not None:
        query = query.where(SESSIONS.c.pinned.is_(bool(pinned)))
    if not include_empty:
        query = query.where(or_(SESSIONS.c.message_count > 0, SESSIONS.c.title.is_not(None)))
    if before is not None:
        query = query.where(
            tuple_(SESSIONS.c.last_activity_at, SESSIONS.c.id)
            < tuple_(
                bindparam("b_la", before.last_activity_at, type_=SESSIONS.c.last_activity_at.type),
                bindparam("b_id", before.id),
            )
        )
    if search and search.strip():  # titles are stored with NUL as U+FFFD: search them so
        pattern = "%" + _escape_like(clean_text(search.strip())) + "%"
        query = query.where(func.lower(SESSIONS.c.title).like(pattern.lower(), escape="\\"))
    return [SessionRecord(*r) for r in conn.execute(query).all()]


def update_session(
    conn: Connection, sid: str, *, user_id: int, values: dict
) -> SessionRecord | None:
    """Set `values` on the user's session; the updated record, or None when it is not theirs."""
    row = conn.execute(
        update(SESSIONS)
        .where(SESSIONS.c.session_id == sid, SESSIONS.c.user_id == user_id)
        .values(**values)
        .returning(*SESSION_COLUMNS)
    ).first()
    return None if row is None else SessionRecord(*row)


def set_title_if_untitled(conn: Connection, sid: str, *, user_id: int, title: str) -> bool:
    """Set the title only when the user's session has none; True when it was set."""
    result = conn.execute(
        update(SESSIONS)
        .where(
            SESSIONS.c.session_id == sid,
            SESSIONS.c.user_id == user_id,
            SESSIONS.c.title.is_(None),
        )
        .values(title=title)
    )
    return result.rowcount == 1


def delete_session(conn: Connection, sid: str, *, user_id: int) -> bool:
    """Delete the user's session and its messages; False when it is not theirs."""
    if not owns(conn, sid, user_id=user_id):
        return False
    conn.execute(delete(MESSAGES).where(MESSAGES.c.session_id == sid))
    conn.execute(delete(SESSIONS).where(SESSIONS.c.session_id == sid))
    return True


def _idle(cutoff: datetime, *, pinned: bool = False) -> ColumnElement[bool]:
    """Sessions last active before `cutoff` (pinned ones are exempt from retention)."""
    return and_(SESSIONS.c.last_activity_at < cutoff, SESSIONS.c.pinned.is_(pinned))


def count_idle_sessions(conn: Connection, *, cutoff: datetime, pinned: bool = False) -> int:
    """How many unpinned (or, with `pinned`, pinned) sessions were last active before `cutoff`."""
    old = _idle(cutoff, pinned=pinned)
    return conn.execute(select(func.count()).select_from(SESSIONS).where(old)).scalar_one()


def delete_idle_batch(conn: Connection, *, cutoff: datetime) -> int:
    """Delete up to CLEANUP_BATCH unpinned sessions idle since before `cutoff`; how many went."""
    batch = conn.execute(
        select(SESSIONS.c.id, SESSIONS.c.session_id).where(_idle(cutoff)).limit(CLEANUP_BATCH)
    ).all()
    if not batch:
        return 0
    conn.execute(delete(MESSAGES).where(MESSAGES.c.session_id.in_([b.session_id for b in batch])))
    conn.execute(delete(SESSIONS).where(SESSIONS.c.id.in_([b.id for b in batch])))
    return len(batch)


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
