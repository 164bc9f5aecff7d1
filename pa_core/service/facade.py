"""ConversationService: the facade, and the only code that opens database transactions.

Every public method is one user action: it checks its arguments, opens one transaction (a
cleanup opens one per batch) and hands the connection to the helpers in this package, which never
commit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import sessionmaker

from pa_core.db import WRITE_OPTION, first_line, get_engine, is_sqlite
from pa_core.errors import SessionNotFound, StorageError
from pa_core.models import utcnow
from pa_core.records import (
    MessageRecord,
    SessionMetrics,
    SessionRecord,
    UserRecord,
)
from pa_core.service import analytics, audit, export, messages, sessions, users
from pa_core.service.facade_admin import AdminMixin
from pa_core.service.facade_backup import BackupMixin
from pa_core.service.facade_marks import MarksMixin
from pa_core.service.facade_recovery import RecoveryMethods
from pa_core.service.facade_search import SearchMixin
from pa_core.service.facade_tokens import TokensMixin
from pa_core.service.facade_transfer import TransferMixin
from pa_core.service.row_scope import install, set_scope, take_scope
from pa_core.validation import (
    canonical_session_id,
    canonical_session_ids,
    check_days,
    check_json,
    check_limit,
    check_optional_int,
    check_title,
    check_username,
    session_id_or_raise,
    user_id_of,
)


class ConversationService(
    TransferMixin, BackupMixin, MarksMixin, RecoveryMethods, SearchMixin, TokensMixin, AdminMixin
):
    """Sessions and messages of every user, with the isolation rules enforced here."""

    def __init__(self, session_factory: sessionmaker | Engine):
        """Wrap a sessionmaker (or an Engine) bound to a migrated database."""
        engine = (
            session_factory if isinstance(session_factory, Engine) else session_factory.kw["bind"]
        )
        self.engine: Engine = engine
        self._write_engine = engine.execution_options(**{WRITE_OPTION: True})
        self._sqlite = is_sqlite(engine)
        if not self._sqlite:
            install(engine)  # the row-security scope rides on each transaction's first statement

    @classmethod
    def from_url(cls, url: str) -> ConversationService:
        """A service over the process-wide engine for `url`."""
        return cls(get_engine(url))

    # -- the one place that opens transactions -------------------------------------------------

    @contextmanager
    def transaction(
        self,
        *,
        write: bool = False,
        user_id: int | None = None,
        everyone: bool = False,
        ordered: bool = False,
    ) -> Iterator[Connection]:
        """The one place a transaction opens: one per user action; SQLite writes lock up front.

        `user_id` names the user the transaction acts for; `everyone=True` marks the explicit
        all-users paths (administration, cleanup, ...): PostgreSQL's row-level security scope.
        `ordered=True`: page reads that must walk their index in order (row_scope.set_scope).
        """
        engine = self._write_engine if write else self.engine
        try:
            with engine.begin() as conn:
                set_scope(
                    conn, sqlite=self._sqlite, user_id=user_id, everyone=everyone, ordered=ordered
                )
                try:
                    yield conn
                finally:
                    if not conn.invalidated:  # (an invalidated one forgets its info)
                        take_scope(conn)  # never left for the connection's next transaction
        except (DBAPIError, PoolTimeoutError) as exc:
            if isinstance(exc, IntegrityError):
                raise
            raise StorageError(f"The database is not available: {first_line(exc)}") from exc

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
        changes = users.profile_changes(display_name=display_name, email=email, role=role)
        for _attempt in range(2):  # a second try when another process created the row first
            with self.transaction(write=True, everyone=True) as conn:
                user = users.find_user(conn, username)
                if user is not None:
                    return users.update_user(conn, user, changes)
                user = users.insert_user(conn, username, changes)
            if user is not None:
                return user
        raise StorageError(f"Could not create user {username!r}.")

    def get_user(self, username: str) -> UserRecord | None:
        """The user row for `username`, or None."""
        with self.transaction(everyone=True) as conn:
            return users.find_user(conn, username)

    def list_users(self) -> list[UserRecord]:
        """Every user, by username."""
        with self.transaction(everyone=True) as conn:
            return users.list_users(conn)

    # -- sessions -------------------------------------------------------------------------------

    def create_session(
        self, *, user: UserRecord, title: str | None = None, context_data: Any = None
    ) -> SessionRecord:
        """A new, empty session of `user`."""
        title = check_title(title)
        context_data = check_json("context_data", context_data)
        uid = user_id_of(user)
        with self.transaction(write=True, user_id=uid) as conn:
            return sessions.insert_session(
                conn, user_id=uid, title=title, context_data=context_data
            )

    def get_session(
        self, session_id: Any, *, user: UserRecord, include_messages: bool = False
    ) -> SessionRecord | None:
        """The user's session, or None when missing, not a UUID, or another user's."""
        sid = canonical_session_id(session_id)
        if sid is None:
            return None
        uid = user_id_of(user)
        with self.transaction(user_id=uid, ordered=include_messages) as conn:
            record = sessions.find_session(conn, sid, user_id=uid)
            if record is None or not include_messages:
                return record
            return record._replace(
                messages=messages.all_messages(conn, sid, user_id=uid, sqlite=self._sqlite)
            )

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
        pinned: bool | None = None,
    ) -> list[SessionRecord]:
        """One page of the user's sessions, newest activity first; keyset paging via `before`.

        `include_empty=False` leaves out untitled sessions without messages (never-used chats);
        `pinned` True/False keeps only pinned/unpinned ones.
        """
        return self._session_page(
            user,
            limit,
            before=before,
            search=search,
            include_inactive=include_inactive,
            include_empty=include_empty,
            pinned=pinned,
        )

    def _session_page(self, user: UserRecord, limit: int, **filters: Any) -> list[SessionRecord]:
        """One keyset page of the user's sessions with `filters` (sessions.list_sessions)."""
        limit = check_limit(limit, maximum=500)
        uid = user_id_of(user)
        with self.transaction(user_id=uid, ordered=True) as conn:
            return sessions.list_sessions(conn, user_id=uid, limit=limit, **filters)

    def rename_session(self, session_id: Any, *, user: UserRecord, title: str) -> SessionRecord:
        """Give the user's session a new title (1-255 characters)."""
        title = check_title(title, allow_none=False)
        return self._update_session(session_id, user=user, values={"title": title})

    def set_session_title_if_untitled(
        self, session_id: Any, *, user: UserRecord, title: str
    ) -> bool:
        """Set the title only when the session has none; True when it was set."""
        title = check_title(title[:255], allow_none=False)
        sid = session_id_or_raise(session_id)
        uid = user_id_of(user)
        with self.transaction(write=True, user_id=uid) as conn:
            return sessions.set_title_if_untitled(conn, sid, user_id=uid, title=title)

    def set_session_active(
        self, session_id: Any, *, user: UserRecord, active: bool
    ) -> SessionRecord:
        """Archive (False) or restore (True) the user's session; archived ones leave the list."""
        return self._update_session(session_id, user=user, values={"is_active": bool(active)})

    def _update_session(self, session_id: Any, *, user: UserRecord, values: dict) -> SessionRecord:
        """Set `values` on the user's session; SessionNotFound when it is not theirs."""
        sid = session_id_or_raise(session_id)
        uid = user_id_of(user)
        with self.transaction(write=True, user_id=uid) as conn:
            record = sessions.update_session(conn, sid, user_id=uid, values=values)
        if record is None:
            raise SessionNotFound(sid)
        return record

    def delete_session(self, session_id: Any, *, user: UserRecord) -> None:
        """Delete the user's session and all its messages, for real."""
        sid = session_id_or_raise(session_id)
        uid = user_id_of(user)
        with self.transaction(write=True, user_id=uid) as conn:
            if not sessions.delete_session(conn, sid, user_id=uid):
                raise SessionNotFound(sid)

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
        client_id: str | None = None,
    ) -> MessageRecord:
        """Store a message and bump the session's last activity, in one transaction; a
        `client_id` already stored in the session returns that message and stores nothing."""
        params = messages.message_params(
            session_id,
            user_id=user_id_of(user),
            role=role,
            content=content,
            tools_used=tools_used,
            processing_time_ms=processing_time_ms,
            token_count=token_count,
            has_error=has_error,
            error_message=error_message,
            metadata=metadata,
            client_id=client_id,
        )
        try:
            with self.transaction(write=True, user_id=params["user_id"]) as conn:
                record = messages.store_message(conn, params, sqlite=self._sqlite)
        except messages.RacedDuplicate:  # rolled back: the other writer's message is the one
            with self.transaction(user_id=params["user_id"]) as conn:
                record = messages.find_by_client_id(conn, params)
        if record is None:
            raise SessionNotFound(params["session_id"])
        return record

    def get_messages(
        self,
        session_id: Any,
        *,
        user: UserRecord,
        limit: int | None = None,
        before_id: int | None = None,
    ) -> list[MessageRecord]:
        """The last `limit` messages (all when None) before `before_id`, oldest first."""
        sid = session_id_or_raise(session_id)
        if limit is not None:
            limit = check_limit(limit, maximum=100_000)
        if before_id is not None:
            before_id = check_optional_int("before_id", before_id)
        uid = user_id_of(user)
        with self.transaction(user_id=uid, ordered=True) as conn:
            records = messages.read_messages(
                conn, sid, user_id=uid, limit=limit, before_id=before_id, sqlite=self._sqlite
            )
        if records is None:
            raise SessionNotFound(sid)
        return records

    # -- search, export, cleanup, metrics --------------------------------------------------------

    def export_csv(
        self,
        user: UserRecord,
        session_ids: list[str] | None = None,
        *,
        progress: Callable[[int], None] | None = None,
    ) -> Iterator[str]:
        """CSV text chunks (header first) of the user's messages; streams with bounded memory."""
        uid = user_id_of(user)
        sids = canonical_session_ids(session_ids, unique=True)
        yield export.csv_header()
        if sids is not None and not sids:
            return
        with self.transaction(user_id=uid) as conn:
            yield from export.iter_csv_rows(conn, user_id=uid, session_ids=sids, progress=progress)

    def count_messages(self, user: UserRecord, session_ids: list[str] | None = None) -> int:
        """How many messages an export of these sessions (all when None) would contain."""
        uid = user_id_of(user)
        sids = canonical_session_ids(session_ids)
        with self.transaction(user_id=uid) as conn:
            return messages.count_messages(conn, user_id=uid, session_ids=sids)

    def cleanup_old_sessions(
        self,
        older_than_days: int = 90,
        dry_run: bool = False,
        *,
        progress: Callable[[int], None] | None = None,
        actor: UserRecord | None = None,
    ) -> int:
        """Remove every user's sessions idle longer than `older_than_days`; returns how many.

        A real run is audited (with `actor`, None for the command line) in its last batch's
        transaction, with the count removed.
        """
        days = check_days("older_than_days", older_than_days)
        cutoff = utcnow() - timedelta(days=days)
        if dry_run:
            with self.transaction(everyone=True) as conn:
                return sessions.count_idle_sessions(conn, cutoff=cutoff)
        removed = 0
        while True:  # batches, so a large cleanup never holds one huge transaction
            with self.transaction(write=True, everyone=True) as conn:
                batch = sessions.delete_idle_batch(conn, cutoff=cutoff)
                if not batch:
                    details = {"older_than_days": days, "sessions_removed": removed}
                    audit.record(conn, actor=actor, action="cleanup", details=details)
            if not batch:
                return removed
            removed += batch
            if progress is not None:
                progress(batch)

    def session_metrics(
        self,
        user: UserRecord | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> SessionMetrics:
        """Analytics over messages created in [since, until); `user=None` means everyone."""
        uid = None if user is None else user_id_of(user)
        with self.transaction(user_id=uid, everyone=uid is None) as conn:
            return analytics.session_metrics(
                conn, user_id=uid, since=since, until=until, sqlite=self._sqlite
            )
