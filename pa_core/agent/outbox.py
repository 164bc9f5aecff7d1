"""The outbox: messages kept in memory while the database is down, written later exactly once.

An `Outbox` holds one `Backlog` per (database, user). Every PersonalAssistant of that user on
that database shares it, so the next successful turn of any of them (or `flush_pending()`) writes
the backlog, in order. Each kept message carries a `client_id` in its metadata: a write that
reached the database although the client saw an error is recognised and not repeated.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from pa_core.agent.context import ContextCache
from pa_core.errors import SessionNotFound, StorageError
from pa_core.validation import canonical_session_id

# "The database is not reachable": the service maps connection failures and pool timeouts to
# StorageError. Other SQLAlchemy errors (a bad statement, an integrity error) are bugs, not an
# outage, and are not kept for a retry.
DB_ERRORS = (StorageError,)
# Messages kept per user while the database is down; newer ones are not kept.
MAX_PENDING_MESSAGES = 1000
# How many stored messages beyond the backlog a flush reads to find client ids already written.
CLIENT_ID_LOOKBACK = 50

log = logging.getLogger(__name__)


def database_key(service: Any) -> str:
    """Which database a service writes to (its engine URL), to keep backlogs apart."""
    return str(getattr(getattr(service, "engine", None), "url", id(service)))


@dataclass
class PendingMessage:
    """A message that could not be written yet; `client_id` makes the later write idempotent."""

    session_id: str
    role: str
    content: str
    fields: dict[str, Any]
    client_id: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass
class Backlog:
    """One user's kept messages, made-up session ids and waiting titles (hold `lock` to use)."""

    limit: int = MAX_PENDING_MESSAGES
    lock: threading.RLock = field(default_factory=threading.RLock)
    pending: list[PendingMessage] = field(default_factory=list)
    unsaved_sessions: set[str] = field(default_factory=set)  # ids made up while the DB was down
    aliases: dict[str, str] = field(default_factory=dict)  # made-up id -> real session id
    titles: dict[str, str] = field(default_factory=dict)  # titles waiting for their session

    def resolve(self, sid: str) -> str:
        """The real session id behind `sid` (itself unless it was made up and adopted)."""
        return self.aliases.get(sid, sid)

    def is_queued(self, sid: str) -> bool:
        """True when session `sid` has messages waiting (later writes must queue behind them).

        A queued message may still carry the made-up id of its session.
        """
        return sid in self.unsaved_sessions or any(
            self.resolve(p.session_id) == sid for p in self.pending
        )

    def keep(self, item: PendingMessage) -> None:
        """Keep an unsaved message; past `limit` newer ones are not kept."""
        if len(self.pending) >= self.limit:
            log.error("%d unsaved messages in memory: not keeping more", len(self.pending))
            return
        self.pending.append(item)

    def queued_sessions(self) -> list[str]:
        """The session ids of the kept messages, in the order they were first kept."""
        return list(dict.fromkeys(p.session_id for p in self.pending))

    def point(self, sid: str, real: str) -> None:
        """Record that messages kept under `sid` now belong to the real session `real`."""
        self.unsaved_sessions.discard(sid)
        self.aliases[sid] = real
        for old, new in list(self.aliases.items()):
            if new == sid:
                self.aliases[old] = real
        if sid in self.titles:
            self.titles[real] = self.titles.pop(sid)


class Outbox:
    """The backlogs of a process: one per (database, user), each of at most `max_per_user`."""

    def __init__(self, *, max_per_user: int = MAX_PENDING_MESSAGES):
        """An empty outbox."""
        self.max_per_user = max_per_user
        self._lock = threading.Lock()
        self._backlogs: dict[tuple[str, int], Backlog] = {}

    def backlog(self, db_key: str, user_id: int) -> Backlog:
        """The backlog of `user_id` on database `db_key` (created empty on first use)."""
        with self._lock:
            found = self._backlogs.get((db_key, user_id))
            if found is None:
                found = self._backlogs[(db_key, user_id)] = Backlog(limit=self.max_per_user)
            return found

    def for_user(self, service: Any, user: Any, *, cache: ContextCache) -> UserOutbox:
        """The outbox as one user of one service sees it."""
        db_key = database_key(service)
        return UserOutbox(
            service, user, backlog=self.backlog(db_key, user.id), cache=cache, db_key=db_key
        )


# The process-wide default, shared by every PersonalAssistant that is not given its own.
DEFAULT_OUTBOX = Outbox()


class UserOutbox:
    """Writes a user's messages now, or keeps them in the backlog when the database is down."""

    def __init__(
        self, service: Any, user: Any, *, backlog: Backlog, cache: ContextCache, db_key: str
    ):
        """A view of `backlog` writing through `service`; `cache` follows what it writes."""
        self.service = service
        self.user = user
        self.backlog = backlog
        self.cache = cache
        self.db_key = db_key

    @property
    def pending_count(self) -> int:
        """How many messages wait for the database to come back."""
        with self.backlog.lock:
            return len(self.backlog.pending)

    def key(self, sid: str) -> tuple:
        """The context cache key of session `sid`."""
        return (self.db_key, self.user.id, sid)

    def resolve(self, sid: str) -> str:
        """The real session id behind `sid` (a session replaced by a new one: the new one)."""
        with self.backlog.lock:
            return self.backlog.resolve(sid)

    # -- sessions --------------------------------------------------------------------------------

    def open_session(self, session_id: str | None) -> tuple[str, Any]:
        """(session id, SessionRecord or None when the database is not reachable).

        None or an id that is not the user's: a new session. An id made up during an outage
        stays in use until the backlog is written.
        """
        backlog = self.backlog
        wanted = canonical_session_id(session_id) if session_id else None
        with backlog.lock:
            if wanted is not None:
                wanted = backlog.resolve(wanted)
                if wanted in backlog.unsaved_sessions:
                    return wanted, None
        try:
            session = self.service.get_or_create_session(wanted, user=self.user)
        except DB_ERRORS:
            if wanted is not None:
                return wanted, None
            made_up = str(uuid.uuid4())
            with backlog.lock:
                backlog.unsaved_sessions.add(made_up)
            return made_up, None
        if session.session_id != wanted and wanted is not None:
            self.cache.discard(self.key(wanted))
        return session.session_id, session

    def set_title(self, sid: str, title: str) -> str | None:
        """Title an untitled session now or once its messages are written; None: not titled."""
        backlog = self.backlog
        with backlog.lock:
            if backlog.is_queued(sid):
                backlog.titles[sid] = title
                return title
        try:
            set_now = self.service.set_session_title_if_untitled(sid, user=self.user, title=title)
        except DB_ERRORS:
            with backlog.lock:
                backlog.titles[sid] = title
            return title
        except SessionNotFound:
            return None
        return title if set_now else None

    # -- messages --------------------------------------------------------------------------------

    def save(self, sid: str, *, role: str, content: str, fields: dict[str, Any]) -> Any:
        """Write a message now (-> MessageRecord), or keep it in order (-> None) when the
        database is not reachable."""
        backlog = self.backlog
        item = PendingMessage(sid, role, content, fields)
        with backlog.lock:
            sid = item.session_id = backlog.resolve(sid)
            if backlog.is_queued(sid):
                backlog.keep(item)
                return None
        try:
            return self._write(sid, item)
        except SessionNotFound:
            # Deleted (e.g. in another tab) since this turn began: continue in a new session.
            with backlog.lock:
                target = self._adopt(sid)
            return self._write(target, item)
        except DB_ERRORS as exc:
            log.warning("message not saved (kept in memory): %s", exc)
            with backlog.lock:
                backlog.keep(item)
            return None

    def flush(self) -> None:
        """Write kept messages in order, exactly once (client ids already stored are skipped)."""
        backlog = self.backlog
        with backlog.lock:
            if not backlog.pending and not backlog.titles:
                return
            try:
                for sid in backlog.queued_sessions():
                    self._flush_session(sid)
                self._flush_titles()
            except DB_ERRORS:
                return  # still down: keep everything for the next call
            except SessionNotFound:
                return  # deleted between check and write: the next flush starts a new session

    def _flush_session(self, sid: str) -> None:
        """Write the kept messages of session `sid` (call with the lock held)."""
        backlog = self.backlog
        target, stored_ids = self._flush_target(sid)
        written = 0
        for item in [p for p in backlog.pending if p.session_id == sid]:
            if item.client_id not in stored_ids:
                self._write(target, item)
            backlog.pending.remove(item)
            written += 1
        self.cache.mark_saved(self.key(target), written)

    def _flush_target(self, sid: str) -> tuple[str, set[str]]:
        """Where the messages kept under `sid` go, and the client ids already stored there."""
        backlog = self.backlog
        if sid in backlog.unsaved_sessions:
            return self._adopt(sid), set()  # a session created just now is empty
        # A made-up id adopted by an earlier, interrupted flush already has its real session.
        target = backlog.resolve(sid)
        stored_ids = self._stored_client_ids(target, len(backlog.pending))
        if stored_ids is None:  # the session is gone or not the user's: start a new one
            return self._adopt(sid), set()
        return target, stored_ids

    def _flush_titles(self) -> None:
        """Set the titles that waited for their session (call with the lock held)."""
        backlog = self.backlog
        for sid, title in list(backlog.titles.items()):
            if sid in backlog.unsaved_sessions:
                continue
            target = backlog.resolve(sid)
            with contextlib.suppress(SessionNotFound):  # deleted meanwhile: nothing to title
                self.service.set_session_title_if_untitled(target, user=self.user, title=title)
            del backlog.titles[sid]

    def _adopt(self, sid: str) -> str:
        """Create a real session for messages kept under a made-up or foreign id."""
        session = self.service.create_session(user=self.user)
        self.backlog.point(sid, session.session_id)
        self.cache.rename(self.key(sid), self.key(session.session_id))
        return session.session_id

    def _write(self, sid: str, item: PendingMessage) -> Any:
        """Add `item` to session `sid`, its client id in the metadata."""
        metadata = dict(item.fields.get("metadata") or {})
        metadata["client_id"] = item.client_id
        fields = {k: v for k, v in item.fields.items() if k != "metadata"}
        return self.service.add_message(
            sid, user=self.user, role=item.role, content=item.content, metadata=metadata, **fields
        )

    def _stored_client_ids(self, sid: str, n_pending: int) -> set[str] | None:
        """client_id of the session's last messages; None when the session is not the user's."""
        try:
            records = self.service.get_messages(
                sid, user=self.user, limit=n_pending + CLIENT_ID_LOOKBACK
            )
        except SessionNotFound:
            return None
        return {
            (r.message_metadata or {}).get("client_id")
            for r in records
            if isinstance(r.message_metadata, dict)
        }
