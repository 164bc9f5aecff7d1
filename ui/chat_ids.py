"""Fresh chat ids: the Chat page puts a new id in the URL, and the session row is created with
that id only when the first message is sent (page loads and bogus links create nothing).

A fresh id is a UUID whose last six bytes are a MAC of the user and its first ten bytes, so a
reload of an empty new chat is recognised as one of ours (no "not found" notice), while a
random or foreign id is not. The key is the login-cookie key when one is configured, else a
key of this process (a fresh id then reads as unknown after a restart: a notice, nothing more).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from pathlib import Path

from pa_core import Settings
from pa_core.validation import canonical_session_id

_PROCESS_KEY = secrets.token_bytes(32)
MAC_BYTES = 6


def _key(settings: Settings) -> bytes:
    """The MAC key: PA_COOKIE_KEY, else the generated cookie key file, else a process key."""
    if settings.cookie_key:
        return settings.cookie_key.encode()
    key_file = Path(settings.auth_config).parent / "cookie_key"
    try:
        return key_file.read_bytes().strip() or _PROCESS_KEY
    except OSError:
        return _PROCESS_KEY


def _mac(settings: Settings, user_id: int, head: bytes) -> bytes:
    """The MAC bytes of a fresh id of `user_id` that starts with `head`."""
    message = b"pa-fresh-chat:" + str(user_id).encode() + b":" + head
    return hmac.new(_key(settings), message, hashlib.sha256).digest()[:MAC_BYTES]


def fresh_chat_id(settings: Settings, user_id: int) -> str:
    """A new chat id for `user_id` (no database row until its first message)."""
    head = uuid.uuid4().bytes[: 16 - MAC_BYTES]  # version and variant bits stay in the head
    return str(uuid.UUID(bytes=head + _mac(settings, user_id, head)))


def is_fresh_chat_id(settings: Settings, user_id: int, session_id: str | None) -> bool:
    """True when `session_id` is a fresh chat id this app made for `user_id`."""
    sid = canonical_session_id(session_id)
    if sid is None:
        return False
    raw = uuid.UUID(sid).bytes
    head, mac = raw[: 16 - MAC_BYTES], raw[16 - MAC_BYTES :]
    return hmac.compare_digest(mac, _mac(settings, user_id, head))
