"""The spool: messages the database did not take, kept durably on local disk until written.

Layout: `<spool dir>/<database key>/user-<id>/<entry>.json`, one file per entry. An entry is
written to a temporary file, fsynced, renamed into place, and the directory is fsynced: once
`keep` returns, the entry survives a crash of the process (or of the machine). File names sort in
the order the entries were kept and carry the session id and the kind of entry, so "does this
session have messages waiting?" is a directory listing. Writers never lock (a rename is atomic);
a flush takes an exclusive `fcntl` lock on `user-<id>/.lock`, so two processes or threads never
replay the same user's spool at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import itertools
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pa_core.errors import StorageError

# Entry kinds: a message of an existing session, a message of a session made up while the
# database was down (created with that id when written), a title waiting for its session.
MESSAGE, NEW_SESSION_MESSAGE, TITLE = "msg", "new", "title"
MESSAGE_KINDS = (MESSAGE, NEW_SESSION_MESSAGE)
# Messages kept per user; past it newer ones are refused (logged) rather than filling the disk.
MAX_SPOOLED_MESSAGES = 10_000

log = logging.getLogger(__name__)

_order_lock = threading.Lock()
_last_ns = 0
_counter = itertools.count()


class SpoolError(StorageError):
    """The database is down and the spool directory cannot be written either (full disk,
    permissions): the message is not kept, and the turn fails like a storage failure."""


class SpoolFull(SpoolError):
    """The database is down and the user's spool already holds its limit of messages: the
    message was NOT kept (the user must be told it was not saved)."""


def database_key(url_text: str) -> str:
    """The directory name of one database's spool (a hash of its URL without the password)."""
    return hashlib.sha256(url_text.encode()).hexdigest()[:16]


def _entry_name(session_id: str, kind: str) -> str:
    """A file name that sorts after every name this process made before."""
    global _last_ns
    with _order_lock:
        _last_ns = max(time.time_ns(), _last_ns + 1)
        return f"{_last_ns:020d}-{os.getpid()}-{next(_counter):08d}.{session_id}.{kind}.json"


def _fsync_dir(directory: Path) -> None:
    """Make a rename or unlink in `directory` durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def entry_parts(path: Path) -> tuple[str, str]:
    """(session id, kind) of an entry file."""
    _order, session_id, kind, _json = path.name.split(".")
    return session_id, kind


class UserSpool:
    """The spool of one user on one database."""

    def __init__(self, directory: Path, *, limit: int = MAX_SPOOLED_MESSAGES):
        """A view of `directory` (created on the first `keep`)."""
        self.directory = directory
        self.limit = limit

    def files(self) -> list[Path]:
        """The entry files, oldest first (none when the directory does not exist)."""
        try:
            names = sorted(n for n in os.listdir(self.directory) if n.endswith(".json"))
        except FileNotFoundError:
            return []
        except OSError as exc:  # unreadable: nothing can wait there (keep() reports the failure)
            log.warning("spool directory %s cannot be read: %s", self.directory, exc)
            return []
        return [self.directory / n for n in names if not n.startswith(".")]

    def message_count(self) -> int:
        """How many messages wait."""
        return sum(entry_parts(p)[1] in MESSAGE_KINDS for p in self.files())

    def sessions(self) -> dict[str, str]:
        """Session id -> the kind of its first waiting entry, for every session with entries."""
        found: dict[str, str] = {}
        for path in self.files():
            sid, kind = entry_parts(path)
            found.setdefault(sid, kind)
        return found

    def keep(self, session_id: str, kind: str, entry: dict[str, Any]) -> bool:
        """Write an entry durably (fsynced) before returning; False when the spool is full."""
        if kind in MESSAGE_KINDS and self.message_count() >= self.limit:
            log.error(
                "%d messages in the spool of %s: not keeping more", self.limit, self.directory
            )
            return False
        data = json.dumps(entry, ensure_ascii=False).encode()
        name = _entry_name(session_id, kind)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            tmp = self.directory / f".tmp-{name}"
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.rename(tmp, self.directory / name)
            _fsync_dir(self.directory)
        except OSError as exc:
            raise SpoolError(f"The message could not be kept on disk: {exc}") from exc
        return True

    def read(self, path: Path) -> dict[str, Any] | None:
        """An entry's content; None when it is gone (another flush took it) or unreadable."""
        try:
            return json.loads(path.read_bytes())
        except FileNotFoundError:
            return None
        except ValueError:
            log.error("unreadable spool entry %s: moved aside", path)
            path.rename(path.with_suffix(".bad"))
            return None

    def remove(self, path: Path) -> None:
        """Delete a written entry, durably."""
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        _fsync_dir(self.directory)

    @contextlib.contextmanager
    def locked(self, *, wait: bool) -> Iterator[bool]:
        """Hold the user's flush lock; yields False when `wait` is False and someone holds it."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / ".lock", "a+b") as lock_file:
            flags = fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB
            try:
                fcntl.flock(lock_file.fileno(), flags)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(lock_file.fileno(), fcntl.LOCK_UN)


class Spool:
    """The spool directory of a process: one UserSpool per (database, user)."""

    def __init__(self, root: Path | str, *, limit: int = MAX_SPOOLED_MESSAGES):
        """A spool under `root` (created when the first message is kept)."""
        self.root = Path(root)
        self.limit = limit

    def for_user(self, db_key: str, user_id: int) -> UserSpool:
        """The spool of `user_id` on database `db_key`."""
        return UserSpool(self.root / db_key / f"user-{user_id}", limit=self.limit)

    def user_ids(self, db_key: str) -> list[int]:
        """The users with a spool directory on database `db_key`."""
        try:
            names = os.listdir(self.root / db_key)
        except FileNotFoundError:
            return []
        return sorted(int(n[5:]) for n in names if n.startswith("user-") and n[5:].isdigit())
