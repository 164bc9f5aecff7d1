"""The login config: streamlit-authenticator's YAML (credentials/cookie), read and written here."""

from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

import bcrypt
import yaml

from pa_core.config import Settings
from pa_core.errors import ValidationError

COOKIE_NAME = "pa_auth"
COOKIE_EXPIRY_DAYS = 30
MIN_PASSWORD_CHARS = 8
MIN_COOKIE_KEY_BYTES = 32
COOKIE_KEY_FILE = "cookie_key"
_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{1,150}$")


__all__ = [
    "AuthConfigError",
    "COOKIE_EXPIRY_DAYS",
    "COOKIE_KEY_FILE",
    "COOKIE_NAME",
    "LOGOUTS_FILE",
    "MIN_COOKIE_KEY_BYTES",
    "MIN_PASSWORD_CHARS",
    "add_user",
    "find_username",
    "has_users",
    "hash_password",
    "last_logout",
    "load_auth_config",
    "logouts_path",
    "record_logout",
    "resolve_cookie_key",
    "save_auth_config",
    "user_profile",
    "verify_password",
]


class AuthConfigError(ValidationError):
    """The auth config file is unreadable or malformed."""


def load_auth_config(path: Path | str) -> dict[str, Any]:
    """The YAML as a dict with `credentials.usernames` and `cookie`; empty skeleton if missing."""
    path = Path(path)
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise AuthConfigError(f"The auth config {path} is not valid YAML: {exc}") from None
        if not isinstance(data, dict):
            raise AuthConfigError(f"The auth config {path} must be a mapping.")
    data.setdefault("credentials", {})
    data["credentials"] = data["credentials"] or {}
    data["credentials"].setdefault("usernames", {})
    data["credentials"]["usernames"] = data["credentials"]["usernames"] or {}
    cookie = data.setdefault("cookie", {}) or {}
    cookie.setdefault("name", COOKIE_NAME)
    cookie.setdefault("expiry_days", COOKIE_EXPIRY_DAYS)
    data["cookie"] = cookie
    return data


def save_auth_config(path: Path | str, config: dict[str, Any]) -> None:
    """Write the YAML atomically, readable by the owner only."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".auth-", suffix=".yaml")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            yaml.safe_dump(config, fh, sort_keys=False, allow_unicode=True)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def has_users(path: Path | str) -> bool:
    """True when the auth config exists and names at least one user."""
    try:
        return bool(load_auth_config(path)["credentials"]["usernames"])
    except AuthConfigError:
        return True  # a broken file is not a fresh install: never offer the first-run form


def hash_password(password: str) -> str:
    """A bcrypt hash, the format streamlit-authenticator verifies."""
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt()).decode("ascii")


def add_user(
    path: Path | str,
    username: str,
    password: str,
    *,
    name: str | None = None,
    email: str | None = None,
    admin: bool = False,
) -> None:
    """Add a user with a hashed password to the auth config (created if missing)."""
    if not isinstance(username, str) or not _USERNAME.match(username):
        raise ValidationError(
            "Usernames use 1-150 letters, digits, '.', '_', '-' or '@', with no spaces."
        )
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_CHARS:
        raise ValidationError(f"The password needs at least {MIN_PASSWORD_CHARS} characters.")
    config = load_auth_config(path)
    users = config["credentials"]["usernames"]
    if username in users:
        raise ValidationError(f"User {username!r} already exists.")
    first, _, last = (name or username).partition(" ")
    users[username] = {
        "email": email or "",
        "first_name": first,
        "last_name": last,
        "password": hash_password(password),
        "roles": ["admin"] if admin else ["user"],
    }
    save_auth_config(path, config)


def find_username(config: dict[str, Any], username: str | None) -> str | None:
    """The config's spelling of `username`: the one case rule (names match case-insensitively)."""
    if not isinstance(username, str) or not username:
        return None
    wanted = username.strip().casefold()
    for name in config["credentials"]["usernames"]:
        if str(name).casefold() == wanted:
            return str(name)
    return None


def verify_password(config: dict[str, Any], username: str, password: str) -> bool:
    """True when `password` matches the bcrypt hash of the user `username` names (any case)."""
    name = find_username(config, username)
    entry = config["credentials"]["usernames"].get(name) if name else None
    stored = (entry or {}).get("password")
    if not entry or not isinstance(stored, str) or not isinstance(password, str):
        return False
    try:
        return bcrypt.checkpw(password.encode("utf-8"), stored.encode("utf-8"))
    except ValueError:  # a plain-text password left in the file is never accepted
        return False


def user_profile(config: dict[str, Any], username: str) -> dict[str, Any]:
    """display_name, email and role ('admin' when the config's roles say so) of a user."""
    found = find_username(config, username)
    entry = (config["credentials"]["usernames"].get(found) if found else None) or {}
    name = " ".join(p for p in (entry.get("first_name"), entry.get("last_name")) if p)
    roles = entry.get("roles") or []
    return {
        "display_name": name or entry.get("name") or username,
        "email": entry.get("email") or None,
        "role": "admin" if "admin" in roles else "user",
    }


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
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(new_key)
    return new_key


# -- logout: cookies issued before a user's last logout are refused (server side) ---------------

LOGOUTS_FILE = "logouts.json"


def logouts_path(auth_config: Path | str) -> Path:
    """Where the last-logout times live: beside the auth config."""
    return Path(auth_config).parent / LOGOUTS_FILE


def last_logout(auth_config: Path | str, username: str) -> float | None:
    """When `username` last logged out (Unix time), or None."""
    try:
        data = json.loads(logouts_path(auth_config).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    value = data.get(username.lower()) if isinstance(data, dict) else None
    return float(value) if isinstance(value, int | float) else None


def record_logout(auth_config: Path | str, username: str, when: float | None = None) -> None:
    """Remember that `username` logged out now: login cookies issued before are refused."""
    path = logouts_path(auth_config)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        data = {}
    if not isinstance(data, dict):
        data = {}
    data[username.lower()] = time.time() if when is None else when
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".logouts-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
