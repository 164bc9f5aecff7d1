"""Superseded replies: a reply replaced by Retry or Regenerate stays, marked in its metadata."""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from pa_core.errors import ValidationError
from pa_core.records import MessageRecord
from pa_core.service.messages import message_from_row
from pa_core.service.tables import MESSAGE_READ_COLUMNS, MESSAGES

SUPERSEDED = "superseded"


def is_superseded(message: MessageRecord) -> bool:
    """True when the message was replaced by a later reply (Retry or Regenerate)."""
    metadata = message.message_metadata
    return isinstance(metadata, dict) and metadata.get(SUPERSEDED) is True


def set_superseded(
    conn: Connection, message_id: int, *, user_id: int, superseded: bool
) -> MessageRecord | None:
    """Mark (or unmark) the user's assistant reply; None when it is not the user's.

    ValidationError when the message is the user's but not an assistant reply.
    """
    row = conn.execute(
        select(MESSAGES.c.role, MESSAGES.c.message_metadata)
        .where(MESSAGES.c.id == message_id, MESSAGES.c.user_id == user_id)
        .with_for_update()
    ).first()
    if row is None:
        return None
    if row.role != "assistant":
        raise ValidationError("Only the assistant's replies can be replaced.")
    metadata = dict(row.message_metadata) if isinstance(row.message_metadata, dict) else {}
    if superseded:
        metadata[SUPERSEDED] = True
    else:
        metadata.pop(SUPERSEDED, None)
    updated = conn.execute(
        update(MESSAGES)
        .where(MESSAGES.c.id == message_id, MESSAGES.c.user_id == user_id)
        .values(message_metadata=metadata)
        .returning(*MESSAGE_READ_COLUMNS)
    ).first()
    return message_from_row(updated)
