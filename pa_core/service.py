"""ConversationService: the only code that opens database transactions."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Integer,
    Text,
    bindparam,
    cast,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import sessionmaker

from pa_core import analytics, export, search
from pa_core.db import WRITE_OPTION, get_engine, is_sqlite
from pa_core.errors import SessionNotFound, StorageError, ValidationError
from pa_core.models import ConversationMessage, ConversationSession, User, utcnow
from pa_core.records import MessageRecord, SearchHit, SessionMetrics, SessionRecord, UserRecord
from pa_core.validation import (
    canonical_session_id,
    check_content,
    check_error_message,
    check_json,
    check_message_role,
    check_optional_int,
    check_title,
    check_tools,
    check_user_role,
    check_username,
)

USERS = User.__table__
SESSIONS = ConversationSession.__table__
MESSAGES = ConversationMessage.__table__

USER_COLUMNS = [USERS.c[f] for f in UserRecord._fields]
SESSION_COLUMNS = [SESSIONS.c[f] for f in SessionRecord._fields if f != "messages"]
MESSAGE_COLUMNS = [MESSAGES.c[f] for f in MessageRecord._fields]
# History loads read the two JSON columns as text and parse them in _message_from_row: the
# drivers' per-value JSON decoding was about half the cost of loading a long history.
_JSON_FIELDS = ("tools_used", "message_metadata")
MESSAGE_READ_COLUMNS = [
    cast(c, Text).label(c.name) if c.name in _JSON_FIELDS else c for c in MESSAGE_COLUMNS
]
CLEANUP_BATCH = 500

# PostgreSQL hot path: ownership check, session bump and insert in one statement (one round trip).
_PG_ADD_MESSAGE = text(
    """
    WITH s AS (
        UPDATE conversation_sessions
           SET last_activity_at = :created_at, message_count = message_count + 1
         WHERE session_id = :session_id AND user_id = :user_id
     RETURNING session_id
    )
    INSERT INTO conversation_messages (session_id, user_id, role, content, tools_used,
        processing_time_ms, token_count, has_error, error_message, message_metadata, created_at)
    SELECT s.session_id, :user_id, :role, :content, :tools_used, :processing_time_ms,
           :token_count, :has_error, :error_message, :message_metadata, :created_at
      FROM s
    RETURNING id
    """
).bindparams(
    bindparam("tools_used", type_=JSONB(none_as_null=True)),
    bindparam("message_metadata", type_=JSONB(none_as_null=True)),
)


class ConversationService:
    """Sessions and messages of every user, with the isolation rules enforced here."""

    def __init__(self, session_factory: sessionmaker | Engine):
        """Wrap a sessionmaker (or an Engine) bound to a migrated database."""
        engine = (
            session_factory if isinstance(session_factory, Engine) else session_factory.kw["bind"]
        )
        self.engine: Engine = engine
        self._write_engine = engine.execution_options(**{WRITE_OPTION: True})
        self._sqlite = is_sqlite(engine)

    @classmethod
    def from_url(cls, url: str) -> ConversationService:
        """A service over the process-wide engine for `url`."""
        return cls(get_engine(url))

    # -- the one place that opens transactions -------------------------------------------------

    @contextmanager
    def transaction(self, *, write: bool = False) -> Iterator[Connection]:
        """The one place a transaction opens: one per user action; SQLite writes lock up front."""
        engine = self._write_engine if write else self.engine
        try:
            with engine.begin() as conn:
                yield conn
        except (DBAPIError, PoolTimeoutError) as exc:
            if isinstance(exc, IntegrityError):
                raise
            raise StorageError(f"The database is not available: {_first_line(exc)}") from exc

    def ping(self) -> bool:
        """True when the database answers a trivial query."""
        try:
            with self.transaction() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except StorageError:
            return False

    # -- users ----------------------------------------------------------------------------------

    def ensure_user(
        self,
        username: str,
        display_name: str | None = None,
        email: str | None = None,
        role: str | None = None,
    ) -> UserRecord:
        """The user row for `username`, created on first call; given fields are kept up to date."""
        username = check_username(username)
        if role is not None:
            check_user_role(role)
        changes = {
            k: v
            for k, v in {"display_name": display_name, "email": email, "role": role}.items()
            if v is not None
        }
        for _attempt in range(2):
            with self.transaction(write=True) as conn:
                row = conn.execute(
                    select(*USER_COLUMNS).where(USERS.c.username == username)
                ).first()
                if row is not None:
                    user = UserRecord._make(row)
                    stale = {k: v for k, v in changes.items() if getattr(user, k) != v}
                    if stale:
                        conn.execute(update(USERS).where(USERS.c.id == user.id).values(**stale))
                        user = user._replace(**stale)
                    return user
                try:
                    values = {
                        "username": username,
                        "role": "user",
                        "created_at": utcnow(),
                        **changes,
                    }
                    with conn.begin_nested():
                        new_id = conn.execute(insert(USERS).values(**values).returning(USERS.c.id))
                        new_id = new_id.scalar_one()
                    return UserRecord(
                        id=new_id,
                        username=username,
                        display_name=values.get("display_name"),
                        email=values.get("email"),
                        role=values["role"],
                        created_at=values["created_at"],
                    )
                except IntegrityError:
                    continue  # another process created it between our select and insert
        raise StorageError(f"Could not create user {username!r}.")

    def get_user(self, username: str) -> UserRecord | None:
        """The user row for `username`, or None."""
        with self.transaction() as conn:
            row = conn.execute(select(*USER_COLUMNS).where(USERS.c.username == username)).first()
        return UserRecord._make(row) if row else None

    def list_users(self) -> list[UserRecord]:
        """Every user, by username."""
        with self.transaction() as conn:
            rows = conn.execute(select(*USER_COLUMNS).order_by(USERS.c.username)).all()
        return [UserRecord._make(r) for r in rows]

    # -- sessions -------------------------------------------------------------------------------

    def create_session(
        self, *, user: UserRecord, title: str | None = None, context_data: Any = None
    ) -> SessionRecord:
        """A new, empty session of `user`."""
        title = check_title(title)
        context_data = check_json("context_data", context_data)
        now = utcnow()
        values = {
            "session_id": str(uuid.uuid4()),
            "user_id": _user_id(user),
            "title": title,
            "description": None,
            "context_data": context_data,
            "session_metadata": None,
            "is_active": True,
            "message_count": 0,
            "created_at": now,
            "last_activity_at": now,
        }
        with self.transaction(write=True) as conn:
            new_id = conn.execute(insert(SESSIONS).values(**values).returning(SESSIONS.c.id))
            new_id = new_id.scalar_one()
        return SessionRecord(id=new_id, **values)

    def get_session(
        self, session_id: Any, *, user: UserRecord, include_messages: bool = False
    ) -> SessionRecord | None:
        """The user's session, or None when missing, not a UUID, or another user's."""
        sid = canonical_session_id(session_id)
        if sid is None:
            return None
        with self.transaction() as conn:
            row = conn.execute(
                select(*SESSION_COLUMNS).where(
                    SESSIONS.c.session_id == sid, SESSIONS.c.user_id == _user_id(user)
                )
            ).first()
            if row is None:
                return None
            messages = None
            if include_messages:
                rows = conn.execute(
                    _MESSAGE_PAGE_QUERIES[(False, False)], {"sid": sid, "uid": _user_id(user)}
                )
                messages = list(map(_message_from_row, rows))
        return SessionRecord(*row, messages=messages)

    def get_or_create_session(self, session_id: Any, *, user: UserRecord) -> SessionRecord:
        """The user's session `session_id`, or a NEW session when it is absent or not theirs."""
        existing = self.get_session(session_id, user=user) if session_id else None
        return existing if existing is not None else self.create_session(user=user)

    def get_user_sessions(
        self,
        user: UserRecord,
        limit: int = 50,
        before: SessionRecord | None = None,
        search: str | None = None,
        include_inactive: bool = False,
        *,
        include_empty: bool = True,
    ) -> list[SessionRecord]:
        """One page of the user's sessions, newest activity first; keyset paging via `before`.

        `include_empty=False` leaves out untitled sessions without messages (never-used chats).
        """
        limit = _check_limit(limit, maximum=500)
        query = (
            select(*SESSION_COLUMNS)
            .where(SESSIONS.c.user_id == _user_id(user))
            .order_by(SESSIONS.c.last_activity_at.desc(), SESSIONS.c.id.desc())
            .limit(limit)
        )
        if not include_inactive:
            query = query.where(SESSIONS.c.is_active.is_(True))
        if not include_empty:
            query = query.where(or_(SESSIONS.c.message_count > 0, SESSIONS.c.title.is_not(None)))
        if before is not None:
            query = query.where(
                tuple_(SESSIONS.c.last_activity_at, SESSIONS.c.id)
                < tuple_(
                    bindparam(
                        "b_la", before.last_activity_at, type_=SESSIONS.c.last_activity_at.type
                    ),
                    bindparam("b_id", before.id),
                )
            )
        if search and search.strip():
            pattern = "%" + _escape_like(search.strip()) + "%"
            query = query.where(func.lower(SESSIONS.c.title).like(pattern.lower(), escape="\\"))
        with self.transaction() as conn:
            rows = conn.execute(query).all()
        return [SessionRecord(*r) for r in rows]

    def rename_session(self, session_id: Any, *, user: UserRecord, title: str) -> SessionRecord:
        """Give the user's session a new title (1-255 characters)."""
        title = check_title(title, allow_none=False)
        return self._update_session(session_id, user=user, values={"title": title})

    def set_session_title_if_untitled(
        self, session_id: Any, *, user: UserRecord, title: str
    ) -> bool:
        """Set the title only when the session has none; True when it was set."""
        title = check_title(title[:255], allow_none=False)
        sid = _sid_or_raise(session_id)
        with self.transaction(write=True) as conn:
            result = conn.execute(
                update(SESSIONS)
                .where(
                    SESSIONS.c.session_id == sid,
                    SESSIONS.c.user_id == _user_id(user),
                    SESSIONS.c.title.is_(None),
                )
                .values(title=title)
            )
        return result.rowcount == 1

    def set_session_active(
        self, session_id: Any, *, user: UserRecord, active: bool
    ) -> SessionRecord:
        """Archive (False) or restore (True) the user's session; archived ones leave the list."""
        return self._update_session(session_id, user=user, values={"is_active": bool(active)})

    def _update_session(self, session_id: Any, *, user: UserRecord, values: dict) -> SessionRecord:
        sid = _sid_or_raise(session_id)
        with self.transaction(write=True) as conn:
            row = conn.execute(
                update(SESSIONS)
                .where(SESSIONS.c.session_id == sid, SESSIONS.c.user_id == _user_id(user))
                .values(**values)
                .returning(*SESSION_COLUMNS)
            ).first()
        if row is None:
            raise SessionNotFound(sid)
        return SessionRecord(*row)

    def delete_session(self, session_id: Any, *, user: UserRecord) -> None:
        """Delete the user's session and all its messages, for real."""
        sid = _sid_or_raise(session_id)
        with self.transaction(write=True) as conn:
            if not self._owns(conn, sid, user):
                raise SessionNotFound(sid)
            conn.execute(delete(MESSAGES).where(MESSAGES.c.session_id == sid))
            conn.execute(delete(SESSIONS).where(SESSIONS.c.session_id == sid))

    # -- messages -------------------------------------------------------------------------------

    def add_message(
        self,
        session_id: Any,
        *,
        user: UserRecord,
        role: str = "user",
        content: str,
        tools_used: list[str] | None = None,
        processing_time_ms: int | None = None,
        token_count: int | None = None,
        has_error: bool = False,
        error_message: str | None = None,
        metadata: dict | None = None,
    ) -> MessageRecord:
        """Store a message and bump the session's last activity, in one transaction."""
        sid = _sid_or_raise(session_id)
        params = {
            "session_id": sid,
            "user_id": _user_id(user),
            "role": check_message_role(role),
            "content": check_content(content),
            "tools_used": check_tools(tools_used),
            "processing_time_ms": check_optional_int("processing_time_ms", processing_time_ms),
            "token_count": check_optional_int("token_count", token_count),
            "has_error": bool(has_error),
            "error_message": check_error_message(error_message),
            "message_metadata": check_json("metadata", metadata),
            "created_at": utcnow(),
        }
        with self.transaction(write=True) as conn:
            new_id = self._insert_message(conn, params)
        if new_id is None:
            raise SessionNotFound(sid)
        return MessageRecord(id=new_id, **params)

    def _insert_message(self, conn: Connection, params: dict) -> int | None:
        """Insert within the caller's transaction; None when the session is not the user's."""
        if not self._sqlite:
            return conn.execute(_PG_ADD_MESSAGE, params).scalar()
        bumped = conn.execute(
            update(SESSIONS)
            .where(
                SESSIONS.c.session_id == params["session_id"],
                SESSIONS.c.user_id == params["user_id"],
            )
            .values(
                last_activity_at=params["created_at"],
                message_count=SESSIONS.c.message_count + 1,
            )
        )
        if bumped.rowcount != 1:
            return None
        return conn.execute(insert(MESSAGES).values(**params).returning(MESSAGES.c.id)).scalar_one()

    def get_messages(
        self,
        session_id: Any,
        *,
        user: UserRecord,
        limit: int | None = None,
        before_id: int | None = None,
    ) -> list[MessageRecord]:
        """The last `limit` messages (all when None) before `before_id`, oldest first."""
        sid = _sid_or_raise(session_id)
        if limit is not None:
            limit = _check_limit(limit, maximum=100_000)
        if before_id is not None:
            before_id = check_optional_int("before_id", before_id)
        query = _MESSAGE_PAGE_QUERIES[(limit is not None, before_id is not None)]
        params = {"sid": sid, "uid": _user_id(user), "lim": limit, "before": before_id}
        with self.transaction() as conn:
            records = list(map(_message_from_row, conn.execute(query, params).all()))
            if not records and not self._owns(conn, sid, user):
                raise SessionNotFound(sid)
        if limit is not None:
            records.reverse()
        return records

    def _owns(self, conn: Connection, sid: str, user: UserRecord) -> bool:
        """True when session `sid` exists and belongs to `user` (caller's transaction)."""
        owned = select(SESSIONS.c.id).where(
            SESSIONS.c.session_id == sid, SESSIONS.c.user_id == _user_id(user)
        )
        return conn.execute(owned).first() is not None

    # -- search, export, cleanup, metrics --------------------------------------------------------

    def search_messages(self, user: UserRecord, query: str, limit: int = 20) -> list[SearchHit]:
        """Full-text search over the user's messages, newest first, with snippets."""
        limit = _check_limit(limit, maximum=200)
        if not isinstance(query, str) or not query.strip():
            return []
        with self.transaction() as conn:
            return search.search_messages(
                conn, user_id=_user_id(user), query=query, limit=limit, sqlite=self._sqlite
            )

    def export_csv(
        self,
        user: UserRecord,
        session_ids: list[str] | None = None,
        *,
        progress: Callable[[int], None] | None = None,
    ) -> Iterator[str]:
        """CSV text chunks (header first) of the user's messages; streams with bounded memory."""
        sids = None
        if session_ids is not None:
            sids = sorted({s for s in map(canonical_session_id, session_ids) if s})
        yield from export.iter_csv(
            lambda: self.transaction(), user_id=_user_id(user), session_ids=sids, progress=progress
        )

    def count_messages(self, user: UserRecord, session_ids: list[str] | None = None) -> int:
        """How many messages an export of these sessions (all when None) would contain."""
        query = (
            select(func.count()).select_from(MESSAGES).where(MESSAGES.c.user_id == _user_id(user))
        )
        if session_ids is not None:
            sids = [s for s in map(canonical_session_id, session_ids) if s]
            query = query.where(MESSAGES.c.session_id.in_(sids))
        with self.transaction() as conn:
            return conn.execute(query).scalar_one()

    def cleanup_old_sessions(
        self,
        older_than_days: int = 90,
        dry_run: bool = False,
        *,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Remove every user's sessions idle longer than `older_than_days`; returns how many."""
        if isinstance(older_than_days, bool) or not isinstance(older_than_days, int):
            raise ValidationError("older_than_days must be a whole number of days.")
        if older_than_days < 0:
            raise ValidationError("older_than_days cannot be negative.")
        cutoff = utcnow() - timedelta(days=older_than_days)
        old = SESSIONS.c.last_activity_at < cutoff
        if dry_run:
            with self.transaction() as conn:
                return conn.execute(
                    select(func.count()).select_from(SESSIONS).where(old)
                ).scalar_one()
        removed = 0
        while True:  # batches, so a large cleanup never holds one huge transaction
            with self.transaction(write=True) as conn:
                batch = conn.execute(
                    select(SESSIONS.c.id, SESSIONS.c.session_id).where(old).limit(CLEANUP_BATCH)
                ).all()
                if not batch:
                    return removed
                conn.execute(
                    delete(MESSAGES).where(MESSAGES.c.session_id.in_([b.session_id for b in batch]))
                )
                conn.execute(delete(SESSIONS).where(SESSIONS.c.id.in_([b.id for b in batch])))
            removed += len(batch)
            if progress is not None:
                progress(len(batch))

    def session_metrics(
        self,
        user: UserRecord | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> SessionMetrics:
        """Analytics over messages created in [since, until); `user=None` means everyone."""
        with self.transaction() as conn:
            return analytics.session_metrics(
                conn,
                user_id=None if user is None else _user_id(user),
                since=since,
                until=until,
                sqlite=self._sqlite,
            )


def _json_text(value: str | None) -> Any:
    """Parse a JSON column read as text; the common empty values skip the parser."""
    if value is None:
        return None
    if value == "[]":
        return []
    return json.loads(value)


def _message_from_row(r: Any) -> MessageRecord:
    """A MessageRecord from a row of MESSAGE_READ_COLUMNS."""
    return MessageRecord(
        r[0], r[1], r[2], r[3], r[4], _json_text(r[5]), r[6], r[7], r[8], r[9],
        _json_text(r[10]), r[11],
    )  # fmt: skip


def _message_page_query(*, limited: bool, before: bool):
    """The get_messages statement, built once per shape (construction was a third of its cost).

    One statement: the ownership check is an uncorrelated EXISTS on the session row (the planner
    runs it once, as a one-time filter) and the messages come from the (session_id, id) index.
    (Filtering on the denormalised messages.user_id instead made PostgreSQL AND two bitmaps and
    sort the whole session.) Only an empty page needs a second look.
    """
    sid = bindparam("sid", type_=MESSAGES.c.session_id.type)
    owned = (
        select(SESSIONS.c.id)
        .where(SESSIONS.c.session_id == sid, SESSIONS.c.user_id == bindparam("uid"))
        .exists()
    )
    query = select(*MESSAGE_READ_COLUMNS)
    if not limited:
        query = query.where(MESSAGES.c.session_id == sid, owned).order_by(MESSAGES.c.id)
    else:
        # The last `lim` rows: a backward range scan of (session_id, id) that stops after `lim`
        # rows. session_id is bounded as a range, not `=`, on purpose: with `=` PostgreSQL sees
        # session_id as a constant, finds the primary key "already ordered" and may walk it
        # backwards filtering the whole table (100 ms at 250k messages for an old session); the
        # range keeps (session_id, id) the only ordered path.
        query = (
            query.where(MESSAGES.c.session_id >= sid, MESSAGES.c.session_id <= sid, owned)
            .order_by(MESSAGES.c.session_id.desc(), MESSAGES.c.id.desc())
            .limit(bindparam("lim", type_=Integer()))
        )
    if before:
        query = query.where(MESSAGES.c.id < bindparam("before", type_=MESSAGES.c.id.type))
    return query


_MESSAGE_PAGE_QUERIES = {
    (limited, before): _message_page_query(limited=limited, before=before)
    for limited in (False, True)
    for before in (False, True)
}


def _user_id(user: Any) -> int:
    """The id of a UserRecord (anything with an integer `id`)."""
    uid = getattr(user, "id", None)
    if isinstance(uid, bool) or not isinstance(uid, int):
        raise ValidationError("user must be the record returned by ensure_user().")
    return uid


def _sid_or_raise(session_id: Any) -> str:
    sid = canonical_session_id(session_id)
    if sid is None:
        raise SessionNotFound(str(session_id)[:64])
    return sid


def _check_limit(limit: Any, *, maximum: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValidationError("limit must be a positive whole number.")
    return min(limit, maximum)


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _first_line(exc: BaseException) -> str:
    return (
        str(getattr(exc, "orig", exc)).strip().splitlines()[0][:300]
        if str(exc)
        else type(exc).__name__
    )
