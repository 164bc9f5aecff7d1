"""One conversation as readable Markdown: the title, then each message with role and time."""

from __future__ import annotations

from datetime import datetime

from pa_core.records import MessageRecord, SessionRecord

ROLE_NAMES = {"user": "User", "assistant": "Assistant", "system": "System"}
RATINGS = {1: "rated helpful", -1: "rated not helpful"}


def _time(value: datetime) -> str:
    """A timestamp as `2026-12-01 09:30 UTC`."""
    return value.strftime("%Y-%m-%d %H:%M UTC")


def _one_line(text: str) -> str:
    """Text on one line (for headings and notes)."""
    return " ".join(text.split())


def _message(m: MessageRecord) -> str:
    """A message: a heading with role and time, notes on tools/errors/feedback, the text."""
    lines = [f"### {ROLE_NAMES.get(m.role, m.role.title())} · {_time(m.created_at)}", ""]
    notes = []
    if m.tools_used:
        notes.append("Tools used: " + ", ".join(f"`{t}`" for t in m.tools_used))
    if isinstance(m.message_metadata, dict):
        if m.message_metadata.get("superseded") is True:
            notes.append("Superseded: replaced by a later reply (Retry or Regenerate)")
        if m.message_metadata.get("interrupted") is True:
            notes.append("Interrupted: the reply was stopped before it finished")
    if m.has_error:
        notes.append("Error: " + _one_line(m.error_message or "the reply failed")[:500])
    if m.feedback in RATINGS:
        comment = f" — {_one_line(m.feedback_comment)}" if m.feedback_comment else ""
        notes.append(f"Feedback: {RATINGS[m.feedback]}{comment}")
    lines.extend(f"> {note}  " for note in notes)
    if notes:
        lines.append("")
    lines.extend([m.content, ""])
    return "\n".join(lines)


def render(session: SessionRecord, messages: list[MessageRecord]) -> str:
    """The whole conversation as Markdown text."""
    title = _one_line(session.title) if session.title else "Untitled conversation"
    head = [
        f"# {title}",
        "",
        f"Session `{session.session_id}` · started {_time(session.created_at)} · "
        f"last activity {_time(session.last_activity_at)} · {len(messages)} message(s)",
        "",
        "---",
        "",
    ]
    return "\n".join(head) + "\n" + "\n".join(map(_message, messages))
