"""REST API authentication: HTTP Basic against the app's auth YAML (bcrypt results cached),
or a per-user API token issued by the CLI."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

from pa_core import auth
from pa_core.errors import PAError
from pa_core.records import UserRecord
from pa_core.service import ConversationService

CACHE_TTL_S = 300.0
CACHE_MAX_ENTRIES = 1024
MAX_FAILURES = 10  # failed passwords per username within FAILURE_WINDOW_S before a pause
FAILURE_WINDOW_S = 300.0


class TooManyFailedLogins(PAError):
    """Too many wrong passwords for one username; `retry_after_s` says when to try again."""

    def __init__(self, retry_after_s: int):
        self.retry_after_s = retry_after_s
        super().__init__(
            f"Too many failed logins for this user; try again in {retry_after_s} seconds."
        )


class LoginThrottle:
    """Counts wrong passwords per username in a sliding window (in memory, per process)."""

    def __init__(self, max_failures: int = MAX_FAILURES, window_s: float = FAILURE_WINDOW_S):
        """Allow `max_failures` wrong passwords per username per `window_s` seconds."""
        self.max_failures, self.window_s = max_failures, window_s
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def check(self, username: str) -> None:
        """Raise TooManyFailedLogins while the username is paused."""
        now = time.monotonic()
        with self._lock:
            recent = [t for t in self._failures.get(username, []) if t > now - self.window_s]
            if recent:
                self._failures[username] = recent
            else:
                self._failures.pop(username, None)
            if len(recent) >= self.max_failures:
                raise TooManyFailedLogins(int(recent[0] + self.window_s - now) + 1)

    def failed(self, username: str) -> None:
        """Record one wrong password (the table is bounded: oldest usernames go first)."""
        with self._lock:
            self._failures.setdefault(username, []).append(time.monotonic())
            while len(self._failures) > CACHE_MAX_ENTRIES:
                self._failures.pop(next(iter(self._failures)))


_dummy_hash: str | None = None
_dummy_lock = threading.Lock()


def _dummy_config() -> dict[str, Any]:
    """A config with one user, so unknown usernames cost one bcrypt check like known ones."""
    global _dummy_hash
    with _dummy_lock:
        if _dummy_hash is None:
            _dummy_hash = auth.hash_password(secrets.token_urlsafe(16))
    return {"credentials": {"usernames": {"-": {"password": _dummy_hash}}}}


class BasicAuthenticator:
    """Checks username/password against the auth YAML; caches successes for a few minutes."""

    def __init__(
        self,
        config_path: Path | str,
        *,
        ttl_s: float = CACHE_TTL_S,
        max_entries: int = CACHE_MAX_ENTRIES,
    ):
        """Authenticate against the streamlit-authenticator YAML at `config_path`."""
        self.config_path = Path(config_path)
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._secret = secrets.token_bytes(32)  # cache keys are useless outside this process
        self._cache: OrderedDict[bytes, tuple[float, UserRecord]] = OrderedDict()
        self._lock = threading.Lock()
        self._config: dict[str, Any] | None = None
        self._config_signature: tuple[int, int] | None = None
        self.bcrypt_checks = 0  # how many slow verifications ran (tests read this)
        self.throttle = LoginThrottle()

    def _current_config(self) -> dict[str, Any]:
        """The YAML, re-read (and the cache cleared) whenever the file changes."""
        try:
            st = self.config_path.stat()
            signature = (st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            signature = (0, -1)
        with self._lock:
            if signature == self._config_signature and self._config is not None:
                return self._config
        config = auth.load_auth_config(self.config_path)  # AuthConfigError when malformed
        with self._lock:
            self._config, self._config_signature = config, signature
            self._cache.clear()
        return config

    def _key(self, username: str, password: str) -> bytes:
        message = username.encode("utf-8", "surrogatepass") + b"\x00"
        message += password.encode("utf-8", "surrogatepass")
        return hmac.new(self._secret, message, hashlib.sha256).digest()

    def authenticate(
        self, username: str, password: str, service: ConversationService
    ) -> UserRecord | None:
        """The user's record (row ensured) when the credentials are right, else None."""
        config = self._current_config()
        key = self._key(username, password)
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and hit[0] > now:
                self._cache.move_to_end(key)
                return hit[1]
        self.throttle.check(username)  # a cached (known good) password is never throttled
        self.bcrypt_checks += 1
        if username not in config["credentials"]["usernames"]:
            auth.verify_password(_dummy_config(), "-", password)  # same cost as a real check
            self.throttle.failed(username)
            return None
        if not auth.verify_password(config, username, password):
            self.throttle.failed(username)
            return None
        user = service.ensure_user(username, **auth.user_profile(config, username))
        with self._lock:
            self._cache[key] = (now + self.ttl_s, user)
            while len(self._cache) > self.max_entries:
                self._cache.popitem(last=False)
        return user

    def authenticate_token(self, token: str, service: ConversationService) -> UserRecord | None:
        """The owner of an active API token who is still a login of the auth YAML, else None."""
        user = service.user_for_token(token)
        if user is None:
            return None
        config = self._current_config()
        if user.username not in config["credentials"]["usernames"]:
            return None  # removing a login from the YAML also ends its API access
        profile = auth.user_profile(config, user.username)
        if any(getattr(user, k) != v for k, v in profile.items() if v is not None):
            user = service.ensure_user(user.username, **profile)
        return user

    def clear(self) -> None:
        """Forget every cached verification."""
        with self._lock:
            self._cache.clear()
