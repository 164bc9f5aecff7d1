"""Make a session look idle: its last activity moved into the past (retention tests)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text


def age_session(engine: Engine, session_id: str, days: float) -> None:
    """Set the session's last_activity_at to `days` ago (naive UTC on SQLite, like the app)."""
    when = datetime.now(UTC) - timedelta(days=days)
    value = when.replace(tzinfo=None) if engine.dialect.name == "sqlite" else when
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE conversation_sessions SET last_activity_at = :w WHERE session_id = :s"),
            {"w": value, "s": session_id},
        )
