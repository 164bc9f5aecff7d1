"""The login cookie: its signing key, the token it carries, and logouts recorded server side.

The token is an HS256 JWT with streamlit-authenticator's claims (`username`, `exp_date`) plus
`iat`, the moment this app issued it. A cookie issued before the user's last logout is refused,
even if the browser kept it; a cookie without `iat` (not issued by this app) is refused too.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from pathlib import Path
from typing import Any

import jwt

from pa_core.auth.credentials import (
    find_username,
    is_password_hash,
    user_entry,
    write_private_file,
)
from pa_core.config import Settings
from pa_core.errors import ValidationError

MIN_COOKIE_KEY_BYTES = 32
COOKIE_KEY_FILE = "cookie_key"
LOGOUTS_FILE = "logouts.json"
TOKEN_ALGORITHM = "HS256"


def resolve_cookie_key(settings: Settings, config: dict[str, Any]) -> str:
    """PA_COOKIE_KEY, else the YAML's cookie.key, else a key generated once beside the config."""
    if settings.cookie_key:
        if len(settings.cookie_key.encode()) < MIN_COOKIE_KEY_BYTES:
            raise ValidationError(f"PA_COOKIE_KEY must be at least {MIN_COOKIE_KEY_BYTES} bytes.")
        return settings.cookie_key
    key = (config.get("cookie") or {}).get("key")
    if isinstance(key, str) and len(key.encode()) >= MIN_COOKIE_KEY_BYTES:
        return key
    key_file = Path(settings.auth_config).parent / COOKIE_KEY_FILE
    if key_file.exists():
        return key_file.read_text(encoding="utf-8").strip()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    new_key = secrets.token_urlsafe(48)
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it at the same moment
        return key_file.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(new_key)
    return new_key


def issue_login_token(
    username: str, *, cookie_key: str, expiry_days: float, now: float | None = None
) -> str:
    """The signed token for a login cookie of `username`, issued `now` (Unix time)."""
    issued = time.time() if now is None else now
    claims = {"username": username, "exp_date": issued + expiry_days * 86_400, "iat": issued}
    return jwt.encode(claims, cookie_key, algorithm=TOKEN_ALGORITHM)


def user_from_token(
    token: str | None,
    *,
    config: dict[str, Any],
    cookie_key: str,
    config_path: Path | str,
    now: float | None = None,
) -> str | None:
    """The config's spelling of the user a login cookie names, or None when it does not count.

    It counts when signed with `cookie_key`, not expired, issued (`iat`) after the user's last
    logout, and naming a user of the config whose password is a bcrypt hash.
    """
    if not isinstance(token, str) or not token:
        return None
    try:
        claims = jwt.decode(token, cookie_key, algorithms=[TOKEN_ALGORITHM])
    except jwt.PyJWTError:
        return None  # signed with another key, or garbage
    now = time.time() if now is None else now
    expires, issued = claims.get("exp_date"), claims.get("iat")
    if not all(isinstance(v, int | float) for v in (expires, issued)) or expires <= now:
        return None
    name = find_username(config, claims.get("username"))
    if name is None or not is_password_hash((user_entry(config, name) or {}).get("password")):
        return None
    logged_out = last_logout(config_path, name)
    if logged_out is not None and issued <= logged_out:
        return None  # issued before the last logout
    return name


def logouts_path(auth_config: Path | str) -> Path:
    """Where the last-logout times live: beside the auth config."""
    return Path(auth_config).parent / LOGOUTS_FILE


def _read_logouts(auth_config: Path | str) -> dict[str, Any]:
    """The recorded logout times by lower-case username ({} when none or unreadable)."""
    try:
        data = json.loads(logouts_path(auth_config).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def last_logout(auth_config: Path | str, username: str) -> float | None:
    """When `username` last logged out (Unix time), or None."""
    value = _read_logouts(auth_config).get(username.casefold())
    return float(value) if isinstance(value, int | float) else None


def record_logout(auth_config: Path | str, username: str, when: float | None = None) -> None:
    """Remember that `username` logged out now: login cookies issued before are refused."""
    data = _read_logouts(auth_config)
    data[username.casefold()] = time.time() if when is None else when
    write_private_file(logouts_path(auth_config), json.dumps(data))
