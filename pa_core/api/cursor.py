"""Opaque paging cursors of GET /sessions: the position after a page's last session."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import NamedTuple

from pa_core.api.errors import APIError
from pa_core.api.schemas import MAX_DB_INT


class CursorPosition(NamedTuple):
    """What `get_user_sessions(before=...)` reads from the last session of a page."""

    last_activity_at: datetime
    id: int


def encode_cursor(last_activity_at: datetime, session_pk: int) -> str:
    """An opaque paging token for the position after (last_activity_at, id)."""
    raw = json.dumps([last_activity_at.isoformat(), session_pk], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> CursorPosition:
    """The position a cursor encodes; APIError 422 when it was not made by encode_cursor."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        stamp, pk = json.loads(raw)
        when = datetime.fromisoformat(stamp)
        if when.tzinfo is None or isinstance(pk, bool) or not isinstance(pk, int):
            raise ValueError("bad cursor")
        if not 0 <= pk <= MAX_DB_INT:
            raise ValueError("bad cursor")
        return CursorPosition(when.astimezone(UTC), pk)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, OverflowError):
        raise APIError(
            422, "The cursor is not valid; use next_cursor of a previous page."
        ) from None
