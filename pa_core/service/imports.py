"""Writing imported conversations (caller's transaction), and what both import formats share.

A conversation arrives as a `PreparedSession`: checked column values for one session and its
messages, ready to insert. `write_session` inserts it unless the user already has it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, insert, select

from pa_core.errors import ValidationError
from pa_core.service.tables import MESSAGES, SESSIONS
from pa_core.textsafe import clean_text
from pa_core.validation import MAX_CONTENT_CHARS

MAX_MESSAGES_PER_SESSION = 100_000
MAX_WARNINGS = 100
INSERT_BATCH = 1000
# uuid5 namespace of the ids derived for imported sessions (stable, so a re-import finds them)
IMPORT_NAMESPACE = uuid.UUID("6f1d3c62-4a0e-5b7e-9a51-3f2b8e0c9d14")
MESSAGE_FIELDS = (
    "role",
    "content",
    "tools_used",
    "processing_time_ms",
    "token_count",
    "has_error",
    "error_message",
    "message_metadata",
    "feedback",
    "feedback_comment",
    "client_id",
    "created_at",
)


class PreparedSession(NamedTuple):
    """One conversation ready to insert: `values` of the session row, `messages` rows."""

    session_id: str
    values: dict[str, Any]
    messages: list[dict[str, Any]]
    warnings: list[str]
    skip_reason: str | None = None  # set: nothing to import (a warning says why)


def derived_session_id(username: str, key: str) -> str:
    """A stable session id for `key` (a source id) imported by `username`."""
    return str(uuid.uuid5(IMPORT_NAMESPACE, f"{username}\x1f{key}"))


def import_content(text: str, *, where: str, warnings: list[str]) -> str:
    """Message text with the NUL rule applied, cut to MAX_CONTENT_CHARS with a warning."""
    if len(text) > MAX_CONTENT_CHARS:
        warnings.append(
            f"{where}: a message of {len(text):,} characters was shortened to "
            f"{MAX_CONTENT_CHARS:,}."
        )
        text = text[: MAX_CONTENT_CHARS - 1] + "…"
    return clean_text(text)


def check_message_total(count: int, *, where: str) -> None:
    """ValidationError when a conversation has more than MAX_MESSAGES_PER_SESSION messages."""
    if count > MAX_MESSAGES_PER_SESSION:
        raise ValidationError(
            f"{where} has {count:,} messages; the limit is {MAX_MESSAGES_PER_SESSION:,}."
        )


def from_epoch(value: Any) -> datetime | None:
    """A UTC datetime from epoch seconds (ChatGPT's create_time), None when absent or odd."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def parse_timestamp(value: Any, *, where: str) -> datetime:
    """An aware UTC datetime from ISO 8601 text (no offset means UTC)."""
    if not isinstance(value, str):
        raise ValidationError(f"{where} must be an ISO 8601 timestamp.")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{where} is not an ISO 8601 timestamp: {value[:40]!r}.") from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def add_warning(warnings: list[str], message: str) -> None:
    """Append `message`, keeping the list at MAX_WARNINGS entries plus one summary line."""
    if len(warnings) < MAX_WARNINGS:
        warnings.append(message)
    elif len(warnings) == MAX_WARNINGS:
        warnings.append("… further warnings were left out.")


def _owner(conn: Connection, sid: str) -> int | None:
    """The user id owning session `sid`, or None when there is no such session."""
    return conn.execute(select(SESSIONS.c.user_id).where(SESSIONS.c.session_id == sid)).scalar()


def target_session_id(
    conn: Connection, prepared: PreparedSession, *, user_id: int, username: str
) -> str | None:
    """The id to import under, or None when the user already has this conversation.

    An id that belongs to another user is never reused: the conversation gets an id derived
    from it and the username (stable, so a re-import still finds it), else a random one.
    """
    sid = prepared.session_id
    owner = _owner(conn, sid)
    if owner is None:
        return sid
    if owner == user_id:
        return None
    alternative = derived_session_id(username, sid)
    owner = _owner(conn, alternative)
    if owner is None:
        return alternative
    return None if owner == user_id else str(uuid.uuid4())


def insert_session(conn: Connection, prepared: PreparedSession, *, sid: str, user_id: int) -> int:
    """Insert the session row and its messages in batches; how many messages."""
    values = {
        **prepared.values,
        "session_id": sid,
        "user_id": user_id,
        "message_count": len(prepared.messages),
    }
    conn.execute(insert(SESSIONS).values(**values))
    rows = prepared.messages
    for start in range(0, len(rows), INSERT_BATCH):
        batch = [
            {**m, "session_id": sid, "user_id": user_id} for m in rows[start : start + INSERT_BATCH]
        ]
        conn.execute(insert(MESSAGES), batch)
    return len(rows)
