"""This project's JSON export, read back: one exported session to a PreparedSession.

Every field is checked the way the service checks new data; a field that does not fit makes the
whole file a readable ValidationError naming the session and message.
"""

from __future__ import annotations

from typing import Any

from pa_core.errors import ValidationError
from pa_core.models import MAX_CLIENT_ID_CHARS
from pa_core.service.feedback import check_comment, check_rating
from pa_core.service.imports import (
    PreparedSession,
    check_message_total,
    import_content,
    parse_timestamp,
)
from pa_core.textsafe import clean_text
from pa_core.validation import (
    canonical_session_id,
    check_error_message,
    check_json,
    check_message_role,
    check_optional_int,
    check_title,
    check_tools,
)

FORMAT = "personal-assistant-export"
SUPPORTED_VERSIONS = (1,)


def check_header(header: dict[str, Any]) -> None:
    """The document's format and version must be this project's (read before its sessions)."""
    if header.get("format") != FORMAT:
        raise ValidationError(
            "The file is neither a ChatGPT export nor a Personal Assistant export."
        )
    if header.get("version") not in SUPPORTED_VERSIONS:
        raise ValidationError(
            f"The export's version {header.get('version')!r} is not supported (this app reads "
            f"version {', '.join(map(str, SUPPORTED_VERSIONS))})."
        )


def _bool(value: Any, *, where: str) -> bool:
    """A JSON true/false."""
    if not isinstance(value, bool):
        raise ValidationError(f"{where} must be true or false.")
    return value


def _text(value: Any, *, where: str) -> str | None:
    """Optional text, NUL rule applied."""
    if value is not None and not isinstance(value, str):
        raise ValidationError(f"{where} must be text.")
    return clean_text(value)


def _checked(where: str, check, *args: Any) -> Any:
    """`check(*args)`, its ValidationError prefixed with `where`."""
    try:
        return check(*args)
    except ValidationError as exc:
        raise ValidationError(f"{where}: {exc}") from None


def _message(m: Any, *, where: str, warnings: list[str]) -> dict[str, Any]:
    """One exported message as a row."""
    if not isinstance(m, dict):
        raise ValidationError(f"{where} is not an object.")
    content = m.get("content")
    if not isinstance(content, str) or not content.strip():
        raise ValidationError(f"{where} has no text content.")
    client_id = _text(m.get("client_id"), where=f"{where} client_id")
    if client_id is not None and len(client_id) > MAX_CLIENT_ID_CHARS:
        raise ValidationError(f"{where}: client_id is over {MAX_CLIENT_ID_CHARS} characters.")
    return {
        "role": _checked(where, check_message_role, m.get("role")),
        "content": import_content(content, where=where, warnings=warnings),
        "tools_used": _checked(where, check_tools, m.get("tools_used")),
        "processing_time_ms": _checked(
            where, check_optional_int, "processing_time_ms", m.get("processing_time_ms")
        ),
        "token_count": _checked(where, check_optional_int, "token_count", m.get("token_count")),
        "has_error": _bool(m.get("has_error", False), where=f"{where} has_error"),
        "error_message": _checked(where, check_error_message, m.get("error_message")),
        "message_metadata": _checked(
            where, check_json, "message_metadata", m.get("message_metadata")
        ),
        "feedback": _checked(where, check_rating, m.get("feedback")),
        "feedback_comment": _checked(where, check_comment, m.get("feedback_comment")),
        "client_id": client_id,
        "created_at": parse_timestamp(m.get("created_at"), where=f"{where} created_at"),
    }


def _messages(raw: Any, *, where: str, warnings: list[str]) -> list[dict[str, Any]]:
    """The session's message rows; client ids must be unique within it."""
    if not isinstance(raw, list):
        raise ValidationError(f"{where}: messages must be a list.")
    check_message_total(len(raw), where=where)
    rows = [
        _message(m, where=f"{where}, message {j + 1}", warnings=warnings) for j, m in enumerate(raw)
    ]
    client_ids = [r["client_id"] for r in rows if r["client_id"] is not None]
    if len(set(client_ids)) != len(client_ids):
        raise ValidationError(f"{where}: two messages have the same client_id.")
    return rows


def prepare(s: Any, *, index: int) -> PreparedSession:
    """Exported session number `index` (from 0) as a PreparedSession."""
    where = f"Session {index + 1}"
    if not isinstance(s, dict):
        raise ValidationError(f"{where} of the export is not an object.")
    sid = canonical_session_id(s.get("session_id"))
    if sid is None:
        raise ValidationError(f"{where} has no valid session_id (a UUID).")
    warnings: list[str] = []
    values = {
        "title": _checked(where, check_title, s.get("title")),
        "description": _text(s.get("description"), where=f"{where} description"),
        "context_data": _checked(where, check_json, "context_data", s.get("context_data")),
        "session_metadata": _checked(
            where, check_json, "session_metadata", s.get("session_metadata")
        ),
        "is_active": _bool(s.get("is_active", True), where=f"{where} is_active"),
        "pinned": _bool(s.get("pinned", False), where=f"{where} pinned"),
        "created_at": parse_timestamp(s.get("created_at"), where=f"{where} created_at"),
        "last_activity_at": parse_timestamp(
            s.get("last_activity_at"), where=f"{where} last_activity_at"
        ),
    }
    messages = _messages(s.get("messages", []), where=where, warnings=warnings)
    return PreparedSession(sid, values, messages, warnings)
