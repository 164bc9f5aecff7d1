"""Argument checks shared by the service; each failure is a readable ValidationError."""

from __future__ import annotations

import json
import uuid
from typing import Any

from pa_core.errors import SessionNotFound, ValidationError
from pa_core.models import MAX_CLIENT_ID_CHARS, MAX_TITLE_CHARS, MAX_USERNAME_CHARS
from pa_core.textsafe import clean_json, clean_text

ROLES = ("user", "assistant", "system")
USER_ROLES = ("user", "admin")
# Documented limit (README): at least 100,000 characters, with room for tool output.
MAX_CONTENT_CHARS = 200_000
MAX_ERROR_CHARS = 20_000
MAX_SEARCH_CHARS = 500


def canonical_session_id(session_id: Any) -> str | None:
    """The canonical lowercase UUID string, or None when `session_id` is not a UUID."""
    if isinstance(session_id, uuid.UUID):
        return str(session_id)
    if not isinstance(session_id, str) or not 32 <= len(session_id) <= 45:
        return None
    try:
        return str(uuid.UUID(session_id))
    except ValueError:
        return None


def canonical_session_ids(
    session_ids: list[Any] | None, *, unique: bool = False
) -> list[str] | None:
    """The valid session ids among `session_ids` (sorted and deduplicated when `unique`);
    None stays None (every session)."""
    if session_ids is None:
        return None
    sids = [s for s in map(canonical_session_id, session_ids) if s]
    return sorted(set(sids)) if unique else sids


def check_days(name: str, days: Any) -> int:
    """A non-negative whole number of days."""
    if isinstance(days, bool) or not isinstance(days, int):
        raise ValidationError(f"{name} must be a whole number of days.")
    if days < 0:
        raise ValidationError(f"{name} cannot be negative.")
    return days


def check_message_role(role: Any) -> str:
    """A valid message role."""
    if role not in ROLES:
        raise ValidationError(f"Unknown message role {role!r}; use one of {', '.join(ROLES)}.")
    return role


def check_user_role(role: Any) -> str:
    """A valid user role."""
    if role not in USER_ROLES:
        raise ValidationError(f"Unknown user role {role!r}; use 'user' or 'admin'.")
    return role


def check_content(content: Any) -> str:
    """Non-empty message text within MAX_CONTENT_CHARS, NUL characters replaced."""
    if not isinstance(content, str):
        raise ValidationError("Message content must be text.")
    if not content.strip():
        raise ValidationError("Message content cannot be empty.")
    if len(content) > MAX_CONTENT_CHARS:
        raise ValidationError(
            f"Message is too long ({len(content):,} characters; the limit is "
            f"{MAX_CONTENT_CHARS:,})."
        )
    return clean_text(content)


def check_title(title: Any, *, allow_none: bool = True) -> str | None:
    """A session title: stripped, at most 255 characters; None or empty means untitled."""
    if title is None:
        if allow_none:
            return None
        raise ValidationError("The title cannot be empty.")
    if not isinstance(title, str):
        raise ValidationError("The title must be text.")
    title = " ".join(title.split())
    if not title:
        if allow_none:
            return None
        raise ValidationError("The title cannot be empty.")
    if len(title) > MAX_TITLE_CHARS:
        raise ValidationError(
            f"The title is too long ({len(title)} characters; the limit is {MAX_TITLE_CHARS})."
        )
    return clean_text(title)


def check_username(username: Any) -> str:
    """A non-empty username of at most 150 characters."""
    if not isinstance(username, str) or not username.strip():
        raise ValidationError("A username is required.")
    username = username.strip()
    if len(username) > MAX_USERNAME_CHARS:
        raise ValidationError(f"The username is longer than {MAX_USERNAME_CHARS} characters.")
    if "\x00" in username:
        raise ValidationError("The username contains a NUL character.")
    return username


def check_optional_int(name: str, value: Any) -> int | None:
    """None or a non-negative integer."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(f"{name} must be a non-negative whole number.")
    return value


def check_tools(tools_used: Any) -> list[str]:
    """A list of tool names (strings)."""
    if tools_used is None:
        return []
    if isinstance(tools_used, str) or not isinstance(tools_used, (list, tuple)):
        raise ValidationError("tools_used must be a list of tool names.")
    if not all(isinstance(t, str) for t in tools_used):
        raise ValidationError("tools_used must contain only tool names (text).")
    return [clean_text(t) for t in tools_used]


def check_json(name: str, value: Any) -> Any:
    """A JSON-serialisable value with NUL characters replaced."""
    if value is None:
        return None
    try:
        json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{name} must be JSON-serialisable: {exc}") from None
    return clean_json(value)


def check_client_id(client_id: Any) -> str | None:
    """None, or a client id: 1-64 printable characters (no spaces or control characters)."""
    if client_id is None:
        return None
    if not isinstance(client_id, str) or not client_id:
        raise ValidationError("client_id must be non-empty text.")
    if len(client_id) > MAX_CLIENT_ID_CHARS:
        raise ValidationError(
            f"client_id is too long ({len(client_id)} characters; the limit is "
            f"{MAX_CLIENT_ID_CHARS})."
        )
    if not client_id.isprintable() or any(c.isspace() for c in client_id):
        raise ValidationError("client_id may not contain spaces or control characters.")
    return client_id


def check_error_message(error_message: Any) -> str | None:
    """Error detail text, truncated to MAX_ERROR_CHARS."""
    if error_message is None:
        return None
    text = str(error_message)
    if len(text) > MAX_ERROR_CHARS:
        text = text[: MAX_ERROR_CHARS - 1] + "…"
    return clean_text(text)


def user_id_of(user: Any) -> int:
    """The id of a UserRecord (anything with an integer `id`)."""
    uid = getattr(user, "id", None)
    if isinstance(uid, bool) or not isinstance(uid, int):
        raise ValidationError("user must be the record returned by ensure_user().")
    return uid


def session_id_or_raise(session_id: Any) -> str:
    """The canonical session id; SessionNotFound when `session_id` is not a UUID."""
    sid = canonical_session_id(session_id)
    if sid is None:
        raise SessionNotFound(str(session_id)[:64])
    return sid


def check_limit(limit: Any, *, maximum: int) -> int:
    """A positive page size, capped at `maximum`."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValidationError("limit must be a positive whole number.")
    return min(limit, maximum)
