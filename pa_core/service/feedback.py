"""Feedback on assistant replies (a rating of 1 or -1 and an optional comment)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select, update

from pa_core.errors import ValidationError
from pa_core.records import MessageRecord
from pa_core.service.messages import message_from_row
from pa_core.service.tables import MESSAGE_READ_COLUMNS, MESSAGES
from pa_core.textsafe import clean_text

RATINGS = (1, -1, None)
MAX_FEEDBACK_COMMENT_CHARS = 2000


def check_rating(rating: Any) -> int | None:
    """1 (helpful), -1 (not helpful) or None (no rating)."""
    if isinstance(rating, bool) or rating not in RATINGS:
        raise ValidationError("The rating must be 1, -1 or empty.")
    return rating


def check_comment(comment: Any) -> str | None:
    """An optional comment of at most MAX_FEEDBACK_COMMENT_CHARS; blank means none."""
    if comment is None:
        return None
    if not isinstance(comment, str):
        raise ValidationError("The feedback comment must be text.")
    comment = comment.strip()
    if len(comment) > MAX_FEEDBACK_COMMENT_CHARS:
        raise ValidationError(
            f"The feedback comment is too long ({len(comment):,} characters; the limit is "
            f"{MAX_FEEDBACK_COMMENT_CHARS:,})."
        )
    return clean_text(comment) or None


def set_feedback(
    conn: Connection, message_id: int, *, user_id: int, rating: int | None, comment: str | None
) -> MessageRecord | None:
    """Store the rating on the user's assistant message; None when it is not the user's.

    ValidationError when the message is the user's but not an assistant reply.
    """
    row = conn.execute(
        update(MESSAGES)
        .where(
            MESSAGES.c.id == message_id,
            MESSAGES.c.user_id == user_id,
            MESSAGES.c.role == "assistant",
        )
        .values(feedback=rating, feedback_comment=comment)
        .returning(*MESSAGE_READ_COLUMNS)
    ).first()
    if row is not None:
        return message_from_row(row)
    role = conn.execute(
        select(MESSAGES.c.role).where(MESSAGES.c.id == message_id, MESSAGES.c.user_id == user_id)
    ).scalar()
    if role is not None:
        raise ValidationError("Feedback can only be given on the assistant's replies.")
    return None
