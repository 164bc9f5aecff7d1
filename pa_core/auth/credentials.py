"""The credentials file: streamlit-authenticator's YAML (credentials, cookie), read and written."""

from __future__ import annotations

import copy
import fcntl
import os
import re
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import bcrypt
import yaml

from pa_core.errors import ValidationError

COOKIE_NAME = "pa_auth"
COOKIE_EXPIRY_DAYS = 30
MIN_PASSWORD_CHARS = 8
CACHE_MAX_FILES = 8
_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{1,150}$")
_BCRYPT = re.compile(r"^\$2[aby]\$\d+\$.{53}$")  # what streamlit-authenticator accepts

_cache: dict[tuple[str, int, int, int], dict[str, Any]] = {}
_cache_lock = threading.Lock()
_write_lock = threading.Lock()  # one writer per process; flock orders the processes


class AuthConfigError(ValidationError):
    """The auth config file is unreadable or malformed."""


def load_auth_config(path: Path | str) -> dict[str, Any]:
    """The YAML with `credentials.usernames` and `cookie`, parsed again only when the file changed.

    Cached by (path, inode, mtime_ns, size): every write replaces the file, so a new inode
    tells a rewrite of the same size within one clock tick apart. Shared by every thread; each
    caller gets its own deep copy, so changing the result never changes what the next caller
    reads. A missing file reads as the empty skeleton.
    """
    return copy.deepcopy(read_auth_config(path))


def read_auth_config(path: Path | str) -> dict[str, Any]:
    """Like load_auth_config, but the shared cached mapping itself: for readers that never
    change it (the API's per-request login checks), without the cost of a copy."""
    path = Path(path)
    try:
        stat = path.stat()
    except FileNotFoundError:
        return _with_defaults({})
    key = (str(path.resolve()), stat.st_ino, stat.st_mtime_ns, stat.st_size)
    with _cache_lock:
        cached = _cache.get(key)
    if cached is None:
        cached = _with_defaults(_parse_auth_file(path))
        with _cache_lock:
            for old in [k for k in _cache if k[0] == key[0]]:
                del _cache[old]  # an older version of the same file
            while len(_cache) >= CACHE_MAX_FILES:
                del _cache[next(iter(_cache))]
            _cache[key] = cached
    return cached


def _parse_auth_file(path: Path) -> dict[str, Any]:
    """The parsed YAML mapping of `path` (AuthConfigError when it is not one)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise AuthConfigError(f"The auth config {path} is not valid YAML: {exc}") from None
    except OSError as exc:
        raise AuthConfigError(f"The auth config {path} cannot be read: {exc.strerror}") from None
    if not isinstance(data, dict):
        raise AuthConfigError(f"The auth config {path} must be a mapping.")
    return data


def _with_defaults(data: dict[str, Any]) -> dict[str, Any]:
    """`data` with an empty `credentials.usernames` and the default cookie settings filled in."""
    credentials = data.get("credentials") or {}
    credentials["usernames"] = credentials.get("usernames") or {}
    data["credentials"] = credentials
    cookie = data.get("cookie") or {}
    cookie.setdefault("name", COOKIE_NAME)
    cookie.setdefault("expiry_days", COOKIE_EXPIRY_DAYS)
    data["cookie"] = cookie
    return data


def save_auth_config(path: Path | str, config: dict[str, Any]) -> None:
    """Write the YAML atomically, readable by the owner only (this process reads it afresh)."""
    write_private_file(Path(path), yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    resolved = str(Path(path).resolve())
    with _cache_lock:
        for old in [k for k in _cache if k[0] == resolved]:
            del _cache[old]


def write_private_file(path: Path, text: str) -> None:
    """Replace `path` atomically with `text`, mode 0600 (no reader ever sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
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


def is_password_hash(value: Any) -> bool:
    """True when a config entry's password is a bcrypt hash (plain text never logs in)."""
    return isinstance(value, str) and bool(_BCRYPT.match(value))


def check_new_username(username: Any) -> str:
    """A username the credentials file accepts (letters, digits, '.', '_', '-', '@')."""
    if not isinstance(username, str) or not _USERNAME.match(username):
        raise ValidationError(
            "Usernames use 1-150 letters, digits, '.', '_', '-' or '@', with no spaces."
        )
    return username


def check_new_password(password: Any) -> str:
    """A password long enough for a login (MIN_PASSWORD_CHARS)."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_CHARS:
        raise ValidationError(f"The password needs at least {MIN_PASSWORD_CHARS} characters.")
    return password


@contextmanager
def _locked(path: Path | str) -> Iterator[None]:
    """Serialise read-modify-write of the config between threads and processes (a lock file);
    a file that cannot be written is an AuthConfigError."""
    lock_path = Path(path).with_name(f".{Path(path).name}.lock")
    try:
        with _write_lock:
            lock_path.parent.mkdir(parents=True, exist_ok=True)
            with open(lock_path, "a", encoding="utf-8") as fh:
                fcntl.flock(fh, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(fh, fcntl.LOCK_UN)
    except OSError as exc:
        raise AuthConfigError(
            f"The auth config {path} cannot be written: {exc.strerror or exc}"
        ) from None


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
    check_new_username(username)
    check_new_password(password)
    with _locked(path):
        config = load_auth_config(path)
        users = config["credentials"]["usernames"]
        if find_username(config, username) is not None:
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


def update_user_entry(
    path: Path | str, username: str, *, password: str | None = None, role: str | None = None
) -> str:
    """Set a new password (hashed) and/or role of an existing login; the config's spelling."""
    if password is not None:
        check_new_password(password)
    if role is not None and role not in ("user", "admin"):
        raise ValidationError(f"Unknown user role {role!r}; use 'user' or 'admin'.")
    with _locked(path):
        config = load_auth_config(path)
        name = find_username(config, username)
        if name is None:
            raise ValidationError(f"There is no login {username!r} in the credentials file.")
        entry = config["credentials"]["usernames"][name] or {}
        if password is not None:
            entry["password"] = hash_password(password)
        if role is not None:
            others = [r for r in entry.get("roles") or [] if r not in ("user", "admin")]
            entry["roles"] = [role, *others]
        config["credentials"]["usernames"][name] = entry
        save_auth_config(path, config)
        return name


def find_username(config: dict[str, Any], username: str | None) -> str | None:
    """The config's spelling of `username`: the one case rule (names match case-insensitively)."""
    if not isinstance(username, str) or not username:
        return None
    wanted = username.strip().casefold()
    for name in config["credentials"]["usernames"]:
        if str(name).casefold() == wanted:
            return str(name)
    return None


def user_entry(config: dict[str, Any], username: str | None) -> dict[str, Any] | None:
    """The config entry of the user `username` names (any case), or None."""
    name = find_username(config, username)
    return (config["credentials"]["usernames"].get(name) or {}) if name else None


def verify_password(config: dict[str, Any], username: str, password: str) -> bool:
    """True when `password` matches the bcrypt hash of the user `username` names (any case)."""
    stored = (user_entry(config, username) or {}).get("password")
    if not is_password_hash(stored) or not isinstance(password, str):
        return False
    try:
        return bcrypt.checkpw(password.encode("utf-8"), stored.encode("utf-8"))
    except ValueError:  # a malformed hash left in the file is never accepted
        return False


def user_profile(config: dict[str, Any], username: str) -> dict[str, Any]:
    """display_name, email and role ('admin' when the config's roles say so) of a user."""
    entry = user_entry(config, username) or {}
    name = " ".join(p for p in (entry.get("first_name"), entry.get("last_name")) if p)
    roles = entry.get("roles") or []
    return {
        "display_name": name or entry.get("name") or username,
        "email": entry.get("email") or None,
        "role": "admin" if "admin" in roles else "user",
    }
