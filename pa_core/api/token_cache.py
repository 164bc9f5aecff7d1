"""Owners of recently checked API tokens, kept for a few seconds so a request needs no look-up.

A hit is trusted for at most `ttl_s` seconds after the database look-up that filled it: a token
revoked, or an owner disabled, by another process (the CLI, the app's admin page in the
Streamlit process) stops working within that bound. In this process it stops at once: revoking
and disabling call pa_core.service.tokens.note_change(), which empties the cache. Expiry is exact
(checked against the stored expiry on every hit); a login removed from the auth YAML stops at
once (the YAML is checked on every request). Unknown or invalid tokens are never cached.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple

from pa_core.models import utcnow
from pa_core.records import UserRecord
from pa_core.service import tokens

DEFAULT_TTL_S = 5.0
MAX_ENTRIES = 4096


class _Owner(NamedTuple):
    """A cached look-up: trusted until `until` (monotonic) while no change was noted since
    `change`; the token's own expiry."""

    until: float
    change: int
    expires_at: datetime | None
    user: UserRecord


class TokenCache:
    """Token -> owner for at most `ttl_s` seconds (0: no caching); LRU-bounded."""

    def __init__(
        self,
        ttl_s: float = DEFAULT_TTL_S,
        *,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = utcnow,
    ):
        """An empty cache; `clock` and `now` are injectable for tests."""
        self.ttl_s, self.max_entries, self.clock, self.now = ttl_s, max_entries, clock, now
        self._secret = secrets.token_bytes(32)  # keys are useless outside this process
        self._entries: OrderedDict[bytes, _Owner] = OrderedDict()
        self._lock = threading.Lock()

    def _key(self, token: str) -> bytes:
        return hmac.new(
            self._secret, token.encode("utf-8", "surrogatepass"), hashlib.sha256
        ).digest()

    def get(self, token: str) -> UserRecord | None:
        """The cached owner of `token` while still trusted and unexpired, else None."""
        if self.ttl_s <= 0:
            return None
        key = self._key(token)
        with self._lock:
            hit = self._entries.get(key)
            if hit is None:
                return None
            expired = hit.expires_at is not None and hit.expires_at <= self.now()
            changed = hit.change != tokens.last_change()
            if expired or changed or hit.until <= self.clock():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return hit.user

    def started(self) -> int:
        """What to hand to `put` for a look-up that starts now (call before the look-up)."""
        return tokens.last_change()

    def put(
        self, token: str, user: UserRecord, expires_at: datetime | None, *, change: int
    ) -> None:
        """Remember the owner a database look-up returned; `change`: `started()` before it
        (a revocation committed meanwhile then makes the entry miss)."""
        if self.ttl_s <= 0:
            return
        entry = _Owner(self.clock() + self.ttl_s, change, expires_at, user)
        with self._lock:
            self._entries[self._key(token)] = entry
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def update(self, token: str, user: UserRecord) -> None:
        """Replace the cached owner's record (its profile was synced), keeping the deadline."""
        key = self._key(token)
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None:
                self._entries[key] = hit._replace(user=user)

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()
