"""Test data for export/import round trips: a user with every kind of field set."""

from __future__ import annotations

import json

from sqlalchemy import create_engine

import pa_core


def seed_rich(svc, user) -> list[str]:
    """Sessions of `user` using every column: feedback, pins, archive, JSON, NUL, client ids."""
    s1 = svc.create_session(user=user, title="Garden plans", context_data={"b": 1, "a": [1, 2]})
    svc.add_message(s1.session_id, user=user, content="How deep do tomatoes go?")
    reply = svc.add_message(
        s1.session_id,
        user=user,
        role="assistant",
        content="About 10 cm. Ünïcode ✓ and a NUL: \x00 end",
        tools_used=["calculator", "clock"],
        processing_time_ms=12,
        token_count=345,
        metadata={"z": {"y": 1, "x": None}, "prompt_tokens": 300},
    )
    svc.set_feedback(reply.id, user=user, rating=-1, comment="too short")
    svc.add_message(
        s1.session_id,
        user=user,
        role="assistant",
        content="The model failed.",
        has_error=True,
        error_message="HTTP 500",
    )
    svc.set_session_pinned(s1.session_id, user=user, pinned=True)
    s2 = svc.create_session(user=user, title=None)
    svc.add_message(s2.session_id, user=user, role="system", content="=cmd| system note")
    svc.set_session_active(s2.session_id, user=user, active=False)
    s3 = svc.create_session(user=user, title="Empty session")
    return [s1.session_id, s2.session_id, s3.session_id]


def without_export_time(text: str) -> dict:
    """The export document with `exported_at` removed (everything else must match)."""
    doc = json.loads(text)
    doc.pop("exported_at")
    return doc


def backup_lines(text: str) -> list[str]:
    """A backup without its header line (which holds the time of the backup)."""
    return text.splitlines()[1:]


def service_for(url: str) -> pa_core.ConversationService:
    """A service on a migrated database URL (its own engine)."""
    return pa_core.ConversationService(create_engine(url))
