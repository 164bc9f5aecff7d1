"""Failed-login throttle: a pause after too many wrong passwords for one username (any case)."""

from __future__ import annotations

import threading
import time

from pa_core.errors import PAError

MAX_FAILURES = 10  # wrong passwords per username within FAILURE_WINDOW_S before a pause
FAILURE_WINDOW_S = 300.0
MAX_TRACKED_USERNAMES = 1024  # the table is bounded: the oldest usernames are forgotten first


class TooManyFailedLogins(PAError):
    """Too many wrong passwords for one username; `retry_after_s` says when to try again."""

    def __init__(self, retry_after_s: int):
        self.retry_after_s = retry_after_s
        super().__init__(
            f"Too many failed logins for this user; try again in {retry_after_s} seconds."
        )


class LoginThrottle:
    """Counts wrong passwords per username in a sliding window (in memory, per process).

    Usernames are counted case-insensitively, like logins: guesses for `Alice` and `alice` add up.
    """

    def __init__(self, max_failures: int = MAX_FAILURES, window_s: float = FAILURE_WINDOW_S):
        """Allow `max_failures` wrong passwords per username per `window_s` seconds."""
        self.max_failures, self.window_s = max_failures, window_s
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def check(self, username: str) -> None:
        """Raise TooManyFailedLogins while the username is paused."""
        key, now = username.casefold(), time.monotonic()
        with self._lock:
            recent = [t for t in self._failures.get(key, []) if t > now - self.window_s]
            if recent:
                self._failures[key] = recent
            else:
                self._failures.pop(key, None)
            if len(recent) >= self.max_failures:
                raise TooManyFailedLogins(int(recent[0] + self.window_s - now) + 1)

    def failed(self, username: str) -> None:
        """Record one wrong password for `username`."""
        with self._lock:
            self._failures.setdefault(username.casefold(), []).append(time.monotonic())
            while len(self._failures) > MAX_TRACKED_USERNAMES:
                self._failures.pop(next(iter(self._failures)))


__all__ = ["FAILURE_WINDOW_S", "MAX_FAILURES", "LoginThrottle", "TooManyFailedLogins"]
