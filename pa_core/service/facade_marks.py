"""Service methods that mark things: feedback on replies, superseded replies, pinned sessions
(a facade mixin)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pa_core.errors import SessionNotFound
from pa_core.models import utcnow
from pa_core.records import MessageRecord, SessionRecord, UserRecord
from pa_core.service import feedback, sessions, supersede
from pa_core.validation import check_days, user_id_of

MAX_DB_ID = 2**63 - 1


class MarksMixin:
    """set_feedback and set_session_pinned; mixed into ConversationService."""

    def set_feedback(
        self,
        message_id: Any,
        *,
        user: UserRecord,
        rating: int | None = 1,
        comment: str | None = None,
    ) -> MessageRecord:
        """Rate one of the user's assistant replies (1, -1, or None to clear), with a comment."""
        rating = feedback.check_rating(rating)
        comment = feedback.check_comment(comment)
        uid = user_id_of(user)
        _check_message_id(message_id)
        with self.transaction(write=True, user_id=uid) as conn:
            record = feedback.set_feedback(
                conn, message_id, user_id=uid, rating=rating, comment=comment
            )
        if record is None:
            raise SessionNotFound(str(message_id))
        return record

    def set_message_superseded(
        self, message_id: Any, *, user: UserRecord, superseded: bool = True
    ) -> MessageRecord:
        """Mark one of the user's assistant replies as replaced by a newer one (Retry or
        Regenerate; `message_metadata["superseded"]`); the reply itself is kept."""
        uid = user_id_of(user)
        _check_message_id(message_id)
        with self.transaction(write=True, user_id=uid) as conn:
            record = supersede.set_superseded(
                conn, message_id, user_id=uid, superseded=bool(superseded)
            )
        if record is None:
            raise SessionNotFound(str(message_id))
        return record

    def count_pinned_idle(self, older_than_days: int) -> int:
        """How many pinned sessions are idle over `older_than_days` (retention keeps them)."""
        cutoff = utcnow() - timedelta(days=check_days("older_than_days", older_than_days))
        with self.transaction(everyone=True) as conn:
            return sessions.count_idle_sessions(conn, cutoff=cutoff, pinned=True)

    def set_session_pinned(
        self, session_id: Any, *, user: UserRecord, pinned: bool = True
    ) -> SessionRecord:
        """Pin (True) or unpin (False) the user's session; pinned sessions outlive retention."""
        return self._update_session(session_id, user=user, values={"pinned": bool(pinned)})


def _check_message_id(message_id: Any) -> None:
    """SessionNotFound for anything that cannot be a stored message id (a bool, text, 0, huge)."""
    if isinstance(message_id, bool) or not isinstance(message_id, int):
        raise SessionNotFound(str(message_id)[:64])
    if not 1 <= message_id <= MAX_DB_ID:
        raise SessionNotFound(str(message_id)[:64])
