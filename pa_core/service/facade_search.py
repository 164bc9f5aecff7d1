"""Search (hits, hits grouped by conversation) and filtered session lists (a facade mixin)."""

from __future__ import annotations

from pa_core.records import ConversationHits, SearchHit, SessionRecord, UserRecord
from pa_core.service import search
from pa_core.validation import check_limit, user_id_of

SEARCH_WINDOW = 200  # hits read by search_conversations before grouping


class SearchMixin:
    """search_messages, search_conversations and get_filtered_sessions; mixed into
    ConversationService."""

    def search_messages(self, user: UserRecord, query: str, limit: int = 20) -> list[SearchHit]:
        """Full-text search over the user's messages, newest first, with snippets."""
        limit = check_limit(limit, maximum=200)
        if not isinstance(query, str) or not query.strip():
            return []
        uid = user_id_of(user)
        with self.transaction(user_id=uid) as conn:
            return search.search_messages(
                conn, user_id=uid, query=query, limit=limit, sqlite=self._sqlite
            )

    def get_filtered_sessions(
        self,
        user: UserRecord,
        *,
        archived: bool | None = False,
        pinned: bool | None = None,
        limit: int = 20,
        before: SessionRecord | None = None,
    ) -> list[SessionRecord]:
        """A keyset page of the user's used sessions: archived True (only archived), False
        (only active) or None (both); pinned True / False / None likewise."""
        return self._session_page(
            user,
            limit,
            before=before,
            search=None,
            include_inactive=archived is None,
            include_empty=False,
            pinned=pinned,
            archived=archived,
        )

    def search_conversations(
        self,
        user: UserRecord,
        query: str,
        *,
        limit: int = 20,
        per_session: int = 3,
        pinned: bool | None = None,
        archived: bool | None = None,
    ) -> list[ConversationHits]:
        """Search results grouped by conversation: each with its newest matching messages.

        Reads the user's newest 200 hits; `pinned` / `archived` keep only such conversations.
        """
        limit = check_limit(limit, maximum=100)
        per_session = check_limit(per_session, maximum=20)
        if not isinstance(query, str) or not query.strip():
            return []
        uid = user_id_of(user)
        with self.transaction(user_id=uid) as conn:
            return search.search_conversations(
                conn,
                user_id=uid,
                query=query,
                window=SEARCH_WINDOW,
                sqlite=self._sqlite,
                sessions=limit,
                per_session=per_session,
                pinned=pinned,
                archived=archived,
            )
