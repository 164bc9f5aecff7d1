"""Who is calling: HTTP Basic against the auth YAML (successes cached briefly), or an API token.

The login policy is the app's (`pa_core.auth`): usernames match case-insensitively, the user row
carries the config's spelling, and every password check is throttled in the database per
account and per client address (`pa_core.auth.LoginThrottle`), like the app's login form.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from pa_core import auth
from pa_core.api.token_cache import DEFAULT_TTL_S, TokenCache
from pa_core.auth import LoginThrottle
from pa_core.records import UserRecord
from pa_core.service import ConversationService

CACHE_TTL_S = 300.0
CACHE_MAX_ENTRIES = 1024


class _Verified(NamedTuple):
    """A cached successful login: valid until `expires` while the config entry is unchanged."""

    expires: float
    fingerprint: tuple[Any, ...]
    user: UserRecord


@cache
def _dummy_config() -> dict[str, Any]:
    """A config with one user, so unknown usernames cost one bcrypt check like known ones."""
    password_hash = auth.hash_password(secrets.token_urlsafe(16))
    return {"credentials": {"usernames": {"-": {"password": password_hash}}}}


def _fingerprint(config: dict[str, Any], name: str) -> tuple[Any, ...]:
    """What a cached login depends on: the user's password hash and profile in the config."""
    entry = config["credentials"]["usernames"].get(name) or {}
    return (entry.get("password"), tuple(sorted(auth.user_profile(config, name).items())))


class BasicAuthenticator:
    """Checks username/password against the auth YAML; caches successes for a few minutes."""

    def __init__(
        self,
        config_path: Path | str,
        *,
        ttl_s: float = CACHE_TTL_S,
        max_entries: int = CACHE_MAX_ENTRIES,
        oidc: bool = False,
        token_ttl_s: float = DEFAULT_TTL_S,
    ):
        """Authenticate against the streamlit-authenticator YAML at `config_path`; with
        `oidc` (PA_AUTH_MODE=oidc) only API tokens count, for users single sign-on created;
        `token_ttl_s` (PA_API_TOKEN_CACHE_S): how long a token look-up is trusted."""
        self.config_path = Path(config_path)
        self.oidc = oidc
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._secret = secrets.token_bytes(32)  # cache keys are useless outside this process
        self._cache: OrderedDict[bytes, _Verified] = OrderedDict()
        self._lock = threading.Lock()
        self.bcrypt_checks = 0  # how many slow verifications ran (tests read this)
        self.throttle = LoginThrottle()
        self.tokens = TokenCache(token_ttl_s)

    def _key(self, username: str, password: str) -> bytes:
        message = username.encode("utf-8", "surrogatepass") + b"\x00"
        message += password.encode("utf-8", "surrogatepass")
        return hmac.new(self._secret, message, hashlib.sha256).digest()

    def _cached(self, key: bytes, config: dict[str, Any], name: str | None) -> UserRecord | None:
        """The user of a cached login that is still valid for the current config, else None."""
        with self._lock:
            hit = self._cache.get(key)
            if hit is None:
                return None
            stale = name is None or hit.expires <= time.monotonic()
            if stale or hit.fingerprint != _fingerprint(config, name):
                del self._cache[key]  # expired, or the user's entry in the config changed
                return None
            self._cache.move_to_end(key)
            return hit.user

    def _remember(self, key: bytes, config: dict[str, Any], name: str, user: UserRecord) -> None:
        with self._lock:
            expires = time.monotonic() + self.ttl_s
            self._cache[key] = _Verified(expires, _fingerprint(config, name), user)
            while len(self._cache) > self.max_entries:
                self._cache.popitem(last=False)

    def authenticate(
        self,
        username: str,
        password: str,
        service: ConversationService,
        address: str | None = None,
    ) -> UserRecord | None:
        """The user's record (row ensured) when the credentials are right, else None.

        TooManyFailedLogins while the account or the client `address` is paused.
        """
        if self.oidc:
            return None  # single sign-on: passwords belong to the identity provider
        config = auth.load_auth_config(self.config_path)  # AuthConfigError when malformed
        name = auth.find_username(config, username)
        key = self._key(username, password)
        user = self._cached(key, config, name)
        if user is not None:  # a cached (known good) password is never throttled
            return auth.ensure_active(service, user)  # disabled since? (UserDisabled)

        def check() -> bool:
            self.bcrypt_checks += 1
            if name is None:  # an unknown user costs one bcrypt check like a known one
                auth.verify_password(_dummy_config(), "-", password)
                return False
            return auth.verify_password(config, name, password)

        if not self.throttle.attempt(service, name or username, address, check):
            return None
        user = auth.sync_user(service, config, name)
        self._remember(key, config, name, user)
        return user

    def cached_token_user(self, token: str) -> UserRecord | None:
        """The token's owner when the cache has it and the auth YAML needs no change to the
        user's row, else None (then authenticate_token decides): no database, no blocking."""
        user = self.tokens.get(token)
        if user is None or self.oidc:
            return user
        config = auth.read_auth_config(self.config_path)
        name = auth.find_username(config, user.username)
        if name is None:
            return None
        profile = auth.user_profile(config, name)
        if any(getattr(user, k) != v for k, v in profile.items() if v is not None):
            return None
        return user

    def authenticate_token(self, token: str, service: ConversationService) -> UserRecord | None:
        """The owner of an active API token who is still a login of the auth YAML, else None.

        The owner comes from `self.tokens` when a look-up within its TTL found it (see
        pa_core.api.token_cache for what that bounds); the YAML is checked every time.
        """
        user = self.tokens.get(token)
        if user is None:
            change = self.tokens.started()
            found = service.token_owner(token)  # UserDisabled for a disabled owner
            if found is None:
                return None
            user = found[0]
            self.tokens.put(token, user, found[1], change=change)
        if self.oidc:
            return user  # single sign-on users are not in the YAML: the token alone counts
        config = auth.read_auth_config(self.config_path)  # read only: no copy
        name = auth.find_username(config, user.username)
        if name is None:
            return None  # removing a login from the YAML also ends its API access
        profile = auth.user_profile(config, name)
        if any(getattr(user, k) != v for k, v in profile.items() if v is not None):
            user = auth.sync_user(service, auth.load_auth_config(self.config_path), name)
            self.tokens.update(token, user)
        return user

    def clear(self) -> None:
        """Forget every cached verification (passwords and tokens)."""
        with self._lock:
            self._cache.clear()
        self.tokens.clear()
