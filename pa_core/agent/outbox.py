"""The outbox: a turn's messages are written now, or kept in the durable spool while the database
is down and written later, exactly once, in order.

Every message the outbox writes carries a `client_id` (the same id in the spool), so a write
that reached the database although the client saw an error, or a replay after a crash in the
middle of a flush, is stored once. The spool lives on disk (`PA_SPOOL_DIR`, see spool.py): any
PersonalAssistant of the same user on the same database and spool directory, in this process or
a later one, writes it on its next successful turn or on `flush_pending()`.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pa_core.agent.context import ContextCache
from pa_core.agent.spool import (
    MAX_SPOOLED_MESSAGES,
    MESSAGE,
    NEW_SESSION_MESSAGE,
    TITLE,
    Spool,
    SpoolFull,
    UserSpool,
    database_key,
    entry_parts,
)
from pa_core.errors import SessionNotFound, StorageError
from pa_core.validation import canonical_session_id

SPOOL_FULL = (
    "The database is not available and this server already keeps {n:,} of your messages "
    "waiting for it, so this message was NOT saved. Please copy it and send it again later."
)

# "The database is not reachable": the service maps connection failures and pool timeouts to
# StorageError. Other SQLAlchemy errors (a bad statement, an integrity error) are bugs, not an
# outage, and are not kept for a retry.
DB_ERRORS = (StorageError,)
# A session deleted while its messages waited continues in a new session whose id is derived
# from the old one, so a replay after a crash finds the same replacement.
REPLACEMENT_NAMESPACE = uuid.UUID("6f1c1c9e-3d1a-4a57-9a55-0c6f2b1e7a11")

log = logging.getLogger(__name__)


def service_database_key(service: Any) -> str:
    """Which database a service writes to (a hash of its URL without the password)."""
    url = getattr(getattr(service, "engine", None), "url", None)
    return database_key(url.render_as_string(hide_password=True) if url else str(id(service)))


def replacement_id(user_id: int, sid: str) -> str:
    """The id of the session that continues a deleted session `sid` (always the same)."""
    return str(uuid.uuid5(REPLACEMENT_NAMESPACE, f"{user_id}:{sid}"))


@dataclass
class ProcessState:
    """What this process remembers about one user's sessions (the spool holds the rest)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    made_up: set[str] = field(default_factory=set)  # ids made up while the DB was down
    aliases: dict[str, str] = field(default_factory=dict)  # deleted session -> its continuation


class Outbox:
    """A spool directory and the process's state per (database, user)."""

    def __init__(self, spool_dir: Path | str, *, max_per_user: int = MAX_SPOOLED_MESSAGES):
        """An outbox spooling under `spool_dir` (at most `max_per_user` messages per user)."""
        self.spool = Spool(spool_dir, limit=max_per_user)
        self._lock = threading.Lock()
        self._states: dict[tuple[str, int], ProcessState] = {}

    def for_user(self, service: Any, user: Any, *, cache: ContextCache) -> UserOutbox:
        """The outbox as one user of one service sees it."""
        db_key = service_database_key(service)
        with self._lock:
            state = self._states.setdefault((db_key, user.id), ProcessState())
        spool = self.spool.for_user(db_key, user.id)
        return UserOutbox(service, user, spool=spool, state=state, cache=cache, db_key=db_key)


_shared: dict[Path, Outbox] = {}
_shared_lock = threading.Lock()


def shared_outbox(spool_dir: Path | str) -> Outbox:
    """The one Outbox of this process for `spool_dir`."""
    path = Path(spool_dir).resolve()
    with _shared_lock:
        return _shared.setdefault(path, Outbox(path))


class UserOutbox:
    """Writes a user's messages now, or keeps them in the spool when the database is down."""

    def __init__(
        self,
        service: Any,
        user: Any,
        *,
        spool: UserSpool,
        state: ProcessState,
        cache: ContextCache,
        db_key: str,
    ):
        """A view of one user's spool writing through `service`; `cache` follows the writes."""
        self.service = service
        self.user = user
        self.spool = spool
        self.state = state
        self.cache = cache
        self.db_key = db_key

    @property
    def pending_count(self) -> int:
        """How many messages wait in the spool for the database to come back."""
        return self.spool.message_count()

    def key(self, sid: str) -> tuple:
        """The context cache key of session `sid`."""
        return (self.db_key, self.user.id, sid)

    def resolve(self, sid: str) -> str:
        """The session that continues `sid` (itself unless it was deleted and replaced)."""
        with self.state.lock:
            return self.state.aliases.get(sid, sid)

    # -- sessions --------------------------------------------------------------------------------

    def open_session(
        self, session_id: str | None, *, keep_id: bool = False, known: Any = None
    ) -> tuple[str, Any]:
        """(session id, SessionRecord or None when the database is not reachable).

        None or an id that is not the user's: a new session. With `keep_id`, an id no session
        has yet is created with exactly that id (the chat page's fresh ids); another user's id
        still starts a new session. An id made up during an outage stays in use; it becomes
        the real session's id when its messages are written. `known`: the user's SessionRecord
        of `session_id` the caller has just read; used as it is when the id still resolves to it.
        """
        wanted = canonical_session_id(session_id) if session_id else None
        if wanted is not None:
            wanted = self.resolve(wanted)
            if self._is_made_up(wanted):
                return wanted, None  # not in the database yet: it waits behind its messages
            if known is not None and known.session_id == wanted:
                return wanted, known
        try:
            if keep_id and wanted is not None:
                session = self._get_or_restore(wanted)
            else:
                session = self.service.get_or_create_session(wanted, user=self.user)
        except DB_ERRORS:
            if wanted is not None:
                if keep_id:  # written with this id (or a replacement of another's) later
                    with self.state.lock:
                        self.state.made_up.add(wanted)
                return wanted, None
            made_up = str(uuid.uuid4())
            with self.state.lock:
                self.state.made_up.add(made_up)
            return made_up, None
        if session.session_id != wanted and wanted is not None:
            self.cache.discard(self.key(wanted))
        return session.session_id, session

    def _get_or_restore(self, sid: str) -> Any:
        """The user's session `sid`, created with that id when none has it; another user's
        id gives a new session with a new id."""
        session = self.service.get_session(sid, user=self.user)
        if session is not None:
            return session
        try:
            return self.service.restore_session(sid, user=self.user)
        except SessionNotFound:
            return self.service.create_session(user=self.user)

    def pending_messages(self, sid: str) -> list[dict[str, Any]]:
        """The messages of session `sid` waiting in the spool, oldest first (role, content,
        fields, client_id)."""
        sid = self.resolve(sid)
        found = []
        for path in self.spool.files():
            entry_sid, kind = entry_parts(path)
            if entry_sid != sid or kind == TITLE:
                continue
            entry = self.spool.read(path)
            if entry is not None:
                found.append(entry)
        return found

    def set_title(self, sid: str, title: str) -> str | None:
        """Title an untitled session now or once its messages are written; None: not titled."""
        if sid in self.spool.sessions() or self._is_made_up(sid):
            return title if self._keep(sid, TITLE, {"title": title}) else None
        try:
            set_now = self.service.set_session_title_if_untitled(sid, user=self.user, title=title)
        except DB_ERRORS:
            return title if self._keep(sid, TITLE, {"title": title}) else None
        except SessionNotFound:
            return None
        return title if set_now else None

    # -- messages --------------------------------------------------------------------------------

    def save(
        self,
        sid: str,
        *,
        role: str,
        content: str,
        fields: dict[str, Any],
        client_id: str | None = None,
    ) -> Any:
        """Write a message now (-> MessageRecord), or keep it durably in order (-> None) when
        the database is not reachable (SpoolFull when it cannot be kept); a new client id
        unless one is given."""
        sid = self.resolve(sid)
        entry = {"role": role, "content": content, "fields": fields}
        entry["client_id"] = client_id or str(uuid.uuid4())
        if sid in self.spool.sessions():  # earlier messages of the session wait: keep the order
            self._keep_message(sid, entry)
            return None
        try:
            return self._deliver(sid, entry)
        except DB_ERRORS as exc:
            log.warning("message not saved (kept in the spool): %s", exc)
            self._keep_message(sid, entry)
            return None

    def flush(self, *, wait: bool = True) -> int:
        """Write the spooled messages in order, exactly once; how many it wrote now (0 while
        the database is still down, or when another flush holds the lock and `wait` is False)."""
        if not self.spool.files():
            return 0
        written = 0
        with self.spool.locked(wait=wait) as acquired:
            if not acquired:
                return 0
            try:
                for path in self.spool.files():
                    written += self._replay(path)
                    self.spool.remove(path)
            except DB_ERRORS:
                pass  # still down: the rest waits for the next call
        return written

    def _replay(self, path: Path) -> int:
        """Write one spool entry; 1 for a message, 0 for a title or an entry already taken."""
        entry = self.spool.read(path)
        if entry is None:
            return 0
        original = entry["session_id"]
        sid = self.resolve(original)
        if entry["kind"] == TITLE:
            with contextlib.suppress(SessionNotFound):  # deleted meanwhile: nothing to title
                self.service.set_session_title_if_untitled(
                    sid, user=self.user, title=entry["title"]
                )
            return 0
        if entry["kind"] == NEW_SESSION_MESSAGE:
            sid = self._restore(sid)
        self._deliver(sid, entry)
        for written_to in {original, sid, self.resolve(sid)}:
            self.cache.discard(self.key(written_to))  # reloaded from the database next turn
        return 1

    # -- helpers ---------------------------------------------------------------------------------

    def _is_made_up(self, sid: str) -> bool:
        """True when `sid` was made up during an outage and may not be in the database yet."""
        with self.state.lock:
            if sid in self.state.made_up:
                return True
        return self.spool.sessions().get(sid) == NEW_SESSION_MESSAGE

    def _keep_message(self, sid: str, entry: dict[str, Any]) -> None:
        """Spool a message (a made-up session's messages say so); SpoolFull when the spool
        holds its limit and the message was not kept."""
        kind = NEW_SESSION_MESSAGE if self._is_made_up(sid) else MESSAGE
        if not self._keep(sid, kind, entry):
            raise SpoolFull(SPOOL_FULL.format(n=self.spool.limit))

    def _keep(self, sid: str, kind: str, entry: dict[str, Any]) -> bool:
        """Write an entry to the spool (fsynced); False when the spool is full."""
        body = {**entry, "kind": kind, "session_id": sid, "user_id": self.user.id}
        return self.spool.keep(sid, kind, body)

    def _restore(self, sid: str) -> str:
        """Create the made-up session `sid` with that id (another user's id: a replacement)."""
        try:
            self.service.restore_session(sid, user=self.user)
        except SessionNotFound:
            return self._replace(sid)
        with self.state.lock:
            self.state.made_up.discard(sid)
        return sid

    def _replace(self, sid: str) -> str:
        """The session continuing `sid` (deleted, or not the user's), created when needed."""
        new = replacement_id(self.user.id, sid)
        self.service.restore_session(new, user=self.user)
        with self.state.lock:
            self.state.made_up.discard(sid)
            self.state.aliases[sid] = new
            for old, target in list(self.state.aliases.items()):
                if target == sid:
                    self.state.aliases[old] = new
        self.cache.rename(self.key(sid), self.key(new))
        return new

    def _deliver(self, sid: str, entry: dict[str, Any]) -> Any:
        """Add the message to session `sid` (a made-up one is created, a deleted one replaced)."""
        try:
            return self._write(sid, entry)
        except SessionNotFound:
            target = self._restore(sid) if self._is_made_up(sid) else self._replace(sid)
            return self._write(target, entry)

    def _write(self, sid: str, entry: dict[str, Any]) -> Any:
        """One idempotent add_message (through the entry's client id)."""
        return self.service.add_message(
            sid,
            user=self.user,
            role=entry["role"],
            content=entry["content"],
            client_id=entry["client_id"],
            **entry["fields"],
        )


def flush_database(service: Any, spool_dir: Path | str) -> int:
    """Write every user's spooled messages of the service's database; how many it wrote now."""
    outbox = shared_outbox(spool_dir)
    db_key = service_database_key(service)
    user_ids = outbox.spool.user_ids(db_key)
    if not user_ids:
        return 0
    users = {u.id: u for u in service.list_users()}
    written = 0
    for uid in user_ids:
        user = users.get(uid)
        if user is None:  # the user row is gone: its sessions (and so its messages) went with it
            log.warning("spool of user id %d kept: no such user in the database", uid)
            continue
        written += outbox.for_user(service, user, cache=ContextCache()).flush(wait=True)
    return written
