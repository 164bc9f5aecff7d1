"""Conversation context: the history budget and a bounded in-memory LRU cache per session."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

# The history budget (documented in docs/ASSISTANT.md): each turn sends the model at most the
# last HISTORY_MAX_MESSAGES messages of the session and at most HISTORY_MAX_CHARS characters of
# them (about 8k tokens), newest first; the current message is always sent whole. Failed
# assistant replies (has_error) are left out: they are not something the model said; so are
# replies replaced by Retry or Regenerate (message_metadata["superseded"]).
HISTORY_MAX_MESSAGES = 40
HISTORY_MAX_CHARS = 32_000
# A cache miss loads the last history_messages + HISTORY_LOAD_MARGIN messages (the margin leaves
# room for failed replies, which are not sent); the cache keeps no more than that per session.
HISTORY_LOAD_MARGIN = 10
CACHE_MAX_SESSIONS = 256
CACHE_MAX_MESSAGES = HISTORY_MAX_MESSAGES + HISTORY_LOAD_MARGIN
# Sent after a reply that was cut short, so the model knows it did not finish that answer.
INTERRUPTED_MARKER = "\n\n[This reply was interrupted before it was finished.]"


@dataclass
class CachedContext:
    """The recent messages of one session and how many database rows they account for."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    db_count: int = 0


class ContextCache:
    """A thread-safe LRU map (user id, session id) -> CachedContext, at most `max_sessions`."""

    def __init__(
        self, max_sessions: int = CACHE_MAX_SESSIONS, max_messages: int = CACHE_MAX_MESSAGES
    ):
        """An empty cache holding at most `max_sessions` sessions of `max_messages` each."""
        self.max_sessions = max_sessions
        self.max_messages = max_messages
        self._data: OrderedDict[tuple, CachedContext] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def hold_at_least(self, max_messages: int) -> None:
        """Keep at least `max_messages` per session from now on (never lowers the bound)."""
        with self._lock:
            self.max_messages = max(self.max_messages, max_messages)

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: tuple, db_count: int | None) -> list[dict[str, Any]] | None:
        """A copy of the cached messages, or None when absent or stale (`db_count` differs)."""
        with self._lock:
            entry = self._data.get(key)
            if entry is None or (db_count is not None and entry.db_count != db_count):
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return list(entry.messages)

    def put(self, key: tuple, messages: list[dict[str, Any]], db_count: int) -> None:
        """Replace the session's entry (keeping only the last `max_messages`)."""
        with self._lock:
            self._data[key] = CachedContext(list(messages[-self.max_messages :]), db_count)
            self._data.move_to_end(key)
            while len(self._data) > self.max_sessions:
                self._data.popitem(last=False)

    def append(self, key: tuple, message: dict[str, Any], *, saved: bool) -> None:
        """Add a message to a cached session; `saved` when it reached the database."""
        with self._lock:
            entry = self._data.get(key)
            if entry is None:
                entry = self._data[key] = CachedContext()
            entry.messages.append(message)
            del entry.messages[: -self.max_messages]
            if saved:
                entry.db_count += 1
            self._data.move_to_end(key)
            while len(self._data) > self.max_sessions:
                self._data.popitem(last=False)

    def mark_saved(self, key: tuple, n: int) -> None:
        """`n` earlier unsaved messages of the session have now reached the database."""
        with self._lock:
            entry = self._data.get(key)
            if entry is not None:
                entry.db_count += n

    def rename(self, old: tuple, new: tuple) -> None:
        """Move an entry to a new key (a session created later than its messages)."""
        with self._lock:
            entry = self._data.pop(old, None)
            if entry is not None:
                self._data[new] = entry

    def discard(self, key: tuple) -> None:
        """Forget a session."""
        with self._lock:
            self._data.pop(key, None)


def message_dict(record: Any) -> dict[str, Any]:
    """The context form of a MessageRecord (an interrupted reply is marked as such)."""
    entry = {
        "role": record.role,
        "content": record.content,
        "has_error": bool(record.has_error),
    }
    metadata = record.message_metadata
    if isinstance(metadata, dict) and metadata.get("interrupted") is True:
        entry["interrupted"] = True
    if isinstance(metadata, dict) and metadata.get("superseded") is True:
        entry["superseded"] = True  # replaced by a later reply: not sent to the model
    return entry


def build_context(
    history: list[dict[str, Any]],
    *,
    system_prompt: str | None,
    max_messages: int = HISTORY_MAX_MESSAGES,
    max_chars: int = HISTORY_MAX_CHARS,
) -> list[dict[str, Any]]:
    """The Chat Completions messages for a turn: system prompt, then history within the budget.

    The last entry of `history` is the current user message and is always included whole.
    """
    usable = [
        {
            "role": m["role"],
            "content": m["content"] + (INTERRUPTED_MARKER if m.get("interrupted") else ""),
        }
        for m in history
        if not m.get("has_error") and not m.get("superseded") and m["role"] in ("user", "assistant")
    ]
    chosen: list[dict[str, Any]] = []
    used = 0
    for message in reversed(usable):
        size = len(message["content"])
        if chosen and (len(chosen) >= max_messages or used + size > max_chars):
            break
        chosen.append(message)
        used += size
    chosen.reverse()
    # A conversation sent to a model should start with a user turn.
    while len(chosen) > 1 and chosen[0]["role"] != "user":
        chosen.pop(0)
    if system_prompt:
        chosen.insert(0, {"role": "system", "content": system_prompt})
    return chosen
