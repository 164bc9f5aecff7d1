"""Failed-login throttle in the database: shared by the app, the API and every replica.

Each attempt is counted per account (username, any case) and per client address *before* the
password is checked, in one write transaction that locks both rows, so parallel guesses cannot
all be tried. A few failures are free; after that each one doubles the wait before the next try,
capped at `max_delay_s`, so the real user is never locked out for minutes. A success resets the
account's count and takes its own attempt off the address's; idle counters are deleted.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from pa_core.errors import PAError
from pa_core.models import LoginAttempt, utcnow

if TYPE_CHECKING:  # only for annotations: the throttle reaches the database through the service
    from pa_core.service import ConversationService

FREE_FAILURES = 5  # wrong passwords per account before the first pause
ADDRESS_FREE_FAILURES = 20  # per client address (several people may share one, e.g. a NAT)
MAX_DELAY_S = 30.0  # the longest pause: 1 s after the free ones, then 2, 4, 8, 16, 30
RESET_AFTER_S = 900.0  # a counter without a failure for this long starts over (row deleted)
CLEANUP_EVERY = 64  # delete idle counters every this many attempts of one process
# Kept for callers of the former in-memory throttle.
MAX_FAILURES = FREE_FAILURES
FAILURE_WINDOW_S = RESET_AFTER_S

T = LoginAttempt.__table__


class TooManyFailedLogins(PAError):
    """Too many wrong passwords for this account or address; `retry_after_s` says when to retry."""

    def __init__(self, retry_after_s: int):
        self.retry_after_s = retry_after_s
        super().__init__(f"Too many failed logins; try again in {retry_after_s} seconds.")


def delay_after(
    failures: int, free: int, max_delay_s: float = MAX_DELAY_S, base_delay_s: float = 1.0
) -> float:
    """Seconds to wait after `failures` recent failures: none up to `free`, then doubling."""
    if failures < free:
        return 0.0
    return min(base_delay_s * 2.0 ** (failures - free), max_delay_s)


def throttle_key(kind: str, value: str) -> str:
    """The row key of an account ("account", case-folded) or a client address ("address")."""
    text = value.strip().casefold() if kind == "account" else value.strip()
    return f"{kind}:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def client_address(peer: str | None, forwarded: list[str], *, trust_forwarded: bool) -> str | None:
    """The address to count: the last X-Forwarded-For entry (the one a trusted proxy appended)
    when `trust_forwarded`, else the connection's `peer`."""
    entries = [e.strip() for value in forwarded for e in value.split(",") if e.strip()]
    return entries[-1] if trust_forwarded and entries else peer


@dataclass(frozen=True)
class Attempt:
    """A claimed login attempt: the rows it was counted on."""

    account_key: str
    address_key: str | None


class LoginThrottle:
    """The database-backed failed-login throttle (one per process is enough; it keeps no counts)."""

    def __init__(
        self,
        *,
        free_failures: int = FREE_FAILURES,
        address_free_failures: int = ADDRESS_FREE_FAILURES,
        max_delay_s: float = MAX_DELAY_S,
        reset_after_s: float = RESET_AFTER_S,
        base_delay_s: float = 1.0,
    ):
        """Allow `free_failures` per account and `address_free_failures` per address unpaused;
        then wait `base_delay_s`, doubling per failure up to `max_delay_s`."""
        self.free_failures, self.address_free_failures = free_failures, address_free_failures
        self.max_delay_s, self.reset_after_s = max_delay_s, reset_after_s
        self.base_delay_s = base_delay_s
        self._calls = itertools.count(1)
        self._lock = threading.Lock()

    def attempt(
        self,
        service: ConversationService,
        username: str,
        address: str | None,
        check: Callable[[], bool],
    ) -> bool:
        """Claim an attempt (TooManyFailedLogins while paused), run `check`, record a success."""
        claimed = self.claim(service, username, address)
        ok = bool(check())
        if ok:
            self.succeeded(service, claimed)
        return ok

    def claim(self, service: ConversationService, username: str, address: str | None) -> Attempt:
        """Count one attempt on the account and the address now; raise while either is paused."""
        known = isinstance(address, str) and bool(address.strip())
        attempt = Attempt(
            throttle_key("account", username if isinstance(username, str) else ""),
            throttle_key("address", address) if known else None,
        )
        free = {attempt.account_key: self.free_failures}
        if attempt.address_key:
            free[attempt.address_key] = self.address_free_failures
        with service.transaction(write=True, everyone=True) as conn:
            wait = self._claim(conn, free, utcnow())
        with self._lock:
            due = next(self._calls) % CLEANUP_EVERY == 0
        if due:
            self.cleanup(service)
        if wait > 0:
            raise TooManyFailedLogins(max(1, math.ceil(wait)))
        return attempt

    def _claim(self, conn: Connection, free: dict[str, int], now: datetime) -> float:
        """Lock (creating) the rows of `free`'s keys; count a failure on each unless one is
        paused. Returns the seconds to wait (0: claimed)."""
        keys = sorted(free)  # one lock order for every process: no deadlocks
        insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        for key in keys:
            row = {"key": key, "failures": 0, "last_failure_at": now}
            conn.execute(insert(T).values(**row).on_conflict_do_nothing(index_elements=["key"]))
        rows = conn.execute(
            select(T.c.key, T.c.failures, T.c.last_failure_at)
            .where(T.c.key.in_(keys))
            .order_by(T.c.key)
            .with_for_update()
        ).all()
        recent, wait = {}, 0.0
        for key, failures, last in rows:
            idle = max(0.0, (now - last).total_seconds())  # another process's clock may lead
            recent[key] = failures if idle < self.reset_after_s else 0
            delay = delay_after(recent[key], free[key], self.max_delay_s, self.base_delay_s)
            if delay > idle:
                wait = max(wait, delay - idle)
        if wait > 0:
            return wait
        for key in keys:
            conn.execute(
                update(T)
                .where(T.c.key == key)
                .values(failures=recent.get(key, 0) + 1, last_failure_at=now)
            )
        return 0.0

    def succeeded(self, service: ConversationService, attempt: Attempt) -> None:
        """The password was right: the account starts over, the address forgets this attempt."""
        with service.transaction(write=True, everyone=True) as conn:
            conn.execute(delete(T).where(T.c.key == attempt.account_key))
            if attempt.address_key:
                conn.execute(
                    update(T)
                    .where(T.c.key == attempt.address_key, T.c.failures > 0)
                    .values(failures=T.c.failures - 1)
                )

    def cleanup(self, service: ConversationService) -> int:
        """Delete counters idle longer than `reset_after_s`; returns how many."""
        cutoff = utcnow() - timedelta(seconds=self.reset_after_s)
        with service.transaction(write=True, everyone=True) as conn:
            return conn.execute(delete(T).where(T.c.last_failure_at < cutoff)).rowcount or 0

    def failures(self, service: ConversationService, kind: str, value: str) -> int:
        """The recorded failure count of an account or address (0 when none)."""
        with service.transaction(everyone=True) as conn:
            found = conn.execute(
                select(T.c.failures).where(T.c.key == throttle_key(kind, value))
            ).scalar()
        return int(found or 0)


__all__ = [
    "ADDRESS_FREE_FAILURES",
    "FAILURE_WINDOW_S",
    "FREE_FAILURES",
    "MAX_DELAY_S",
    "MAX_FAILURES",
    "Attempt",
    "client_address",
    "LoginThrottle",
    "TooManyFailedLogins",
    "delay_after",
    "throttle_key",
]
