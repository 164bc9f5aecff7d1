"""Service methods for writes that are retried: sessions recreated with their own id, messages
found by their client id (ConversationService inherits these; they open transactions through
its `transaction`)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from pa_core.errors import SessionNotFound
from pa_core.records import MessageRecord, SessionRecord, UserRecord
from pa_core.service import messages, sessions
from pa_core.validation import check_client_id, session_id_or_raise, user_id_of


class RecoveryMethods:
    """restore_session and get_message_by_client_id, mixed into ConversationService."""

    def transaction(
        self, *, write: bool = False, user_id: int | None = None, everyone: bool = False
    ) -> AbstractContextManager[Connection]:
        """Provided by ConversationService."""
        raise NotImplementedError

    def restore_session(self, session_id: Any, *, user: UserRecord) -> SessionRecord:
        """The user's session, created empty with exactly this id when it does not exist (for
        messages kept while the database was down); SessionNotFound when it is another's."""
        sid, uid = session_id_or_raise(session_id), user_id_of(user)
        try:
            with self.transaction(write=True, user_id=uid) as conn:  # the spool's flush lock
                return sessions.restore_session(conn, sid, user_id=uid)
        except IntegrityError:  # the id is taken by a row this user's scope cannot see
            with self.transaction(user_id=uid) as conn:  # (or by their own concurrent restore)
                found = sessions.find_session(conn, sid, user_id=uid)
            if found is None:
                raise SessionNotFound(sid) from None
            return found

    def get_message_by_client_id(
        self, session_id: Any, *, user: UserRecord, client_id: str
    ) -> MessageRecord | None:
        """The user's message of this session stored with `client_id`, or None."""
        params = {
            "session_id": session_id_or_raise(session_id),
            "user_id": user_id_of(user),
            "client_id": check_client_id(client_id),
        }
        with self.transaction(user_id=params["user_id"]) as conn:
            return messages.find_by_client_id(conn, params)


__all__ = ["RecoveryMethods"]
