"""Retry and Regenerate: the last reply of a session answered again.

The earlier reply stays in the session (and in exports), marked `message_metadata["superseded"]`
through the service; it is left out of what the model is sent. The user message is not stored
again: the new reply follows the old one.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from pa_core.agent.context import HISTORY_LOAD_MARGIN, message_dict
from pa_core.agent.turn import Turn
from pa_core.errors import SessionNotFound, ValidationError
from pa_core.validation import session_id_or_raise

NOT_LAST = "Only the last reply of a conversation can be answered again."


class RedoMixin:
    """PersonalAssistant.regenerate (mixed into PersonalAssistant)."""

    def regenerate(self, session_id: str, message_id: int) -> Iterator[str]:
        """Answer the user's last message again (Retry on an error reply, Regenerate on any):
        the reply `message_id` is kept, marked superseded; yields the new reply's chunks."""
        return self._turn(lambda: self._begin_redo(session_id, message_id))  # type: ignore[attr-defined]

    def _begin_redo(self, session_id: str, message_id: int) -> tuple[Turn, list[dict[str, Any]]]:
        """Check that `message_id` is the session's last message and a reply, mark it."""
        started = time.perf_counter()
        self.last_reply = None
        sid = session_id_or_raise(session_id)
        self.outbox.flush(wait=False)
        records = self.service.get_messages(
            sid, user=self.user, limit=self.history_messages + HISTORY_LOAD_MARGIN
        )
        if not records or records[-1].id != message_id or records[-1].role != "assistant":
            raise ValidationError(NOT_LAST)
        asked = next((r for r in reversed(records) if r.role == "user"), None)
        if asked is None:
            raise SessionNotFound(str(message_id))
        self.service.set_message_superseded(message_id, user=self.user)
        self.cache.discard(self.outbox.key(sid))  # reloaded from the database next turn
        self.last_session_id = sid
        history = [message_dict(r) for r in records[:-1]]
        while history and history[-1]["role"] != "user":
            history.pop()  # earlier superseded replies of the same question
        turn = Turn(sid, asked.content, True, False, started, asked)
        return turn, history
