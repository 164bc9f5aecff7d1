"""Build this app's JSON export with explicit timestamps, to seed data dated in the past.

`import_conversations` keeps every field and the original times, so a test can seed a year of
history through the real import path instead of writing rows behind the service's back.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any


def turn(
    when: datetime,
    question: str,
    answer: str,
    *,
    ms: int | None = 10,
    tokens: int | None = None,
    feedback: int | None = None,
    error: str | None = None,
    tools: list[str] | None = None,
) -> list[dict[str, Any]]:
    """A user message at `when` and the assistant's reply a second later."""
    reply = {
        "role": "assistant",
        "content": answer,
        "tools_used": tools or [],
        "processing_time_ms": ms,
        "token_count": tokens,
        "has_error": error is not None,
        "error_message": error,
        "feedback": feedback,
        "created_at": (when + timedelta(seconds=1)).isoformat(),
    }
    return [{"role": "user", "content": question, "created_at": when.isoformat()}, reply]


def session(
    title: str, messages: list[dict[str, Any]], *, pinned: bool = False, active: bool = True
) -> dict[str, Any]:
    """One exported session holding `messages` (its times from the first and last message)."""
    first, last = messages[0]["created_at"], messages[-1]["created_at"]
    return {
        "session_id": str(uuid.uuid4()),
        "title": title,
        "is_active": active,
        "pinned": pinned,
        "created_at": first,
        "last_activity_at": last,
        "messages": messages,
    }


def document(username: str, sessions: list[dict[str, Any]]) -> bytes:
    """The whole export document, as `import_conversations` reads it."""
    doc = {
        "format": "personal-assistant-export",
        "version": 1,
        "exported_at": datetime.now(UTC).isoformat(),
        "username": username,
        "sessions": sessions,
    }
    return json.dumps(doc).encode()
