"""ChatGPT's conversations.json: one conversation (a message tree) to a PreparedSession.

The messages are the active path, from `current_node` up to the root, oldest first. Nodes with
nothing for the reader (system, tool, hidden, empty, tool calls) are left out; a part that is
not text becomes a short placeholder such as "[image]"; other branches are counted in a warning.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pa_core.errors import ValidationError
from pa_core.service.imports import (
    PreparedSession,
    check_message_total,
    derived_session_id,
    from_epoch,
    import_content,
)
from pa_core.textsafe import clean_json
from pa_core.validation import check_title

SOURCE = "chatgpt"
NO_MAPPING = "no mapping"
SHOWN_ROLES = ("user", "assistant")
HIDDEN_CONTENT = {"thoughts", "reasoning_recap", "user_editable_context", "model_editable_context"}
PLACEHOLDERS = {
    "image_asset_pointer": "[image]",
    "audio_asset_pointer": "[audio]",
    "real_time_user_audio_video_asset_pointer": "[audio]",
    "audio_transcription": "[audio]",
    "video_container_asset_pointer": "[video]",
}


def conversation_key(conv: dict) -> str:
    """The conversation's id in ChatGPT (or a key made of its title and time)."""
    for field in ("conversation_id", "id"):
        value = conv.get(field)
        if isinstance(value, str) and value:
            return value
    return f"{conv.get('title')}|{conv.get('create_time')}"


def prepare(conv: Any, *, index: int, username: str) -> PreparedSession:
    """The conversation `conv` (item `index` of the file) as a PreparedSession."""
    if not isinstance(conv, dict):
        raise ValidationError(f"Item {index + 1} of conversations.json is not a conversation.")
    key = conversation_key(conv)
    sid = derived_session_id(username, f"{SOURCE}:{key}")
    warnings: list[str] = []
    title = _title(conv.get("title"), warnings)
    name = f"Conversation {title!r}" if title else f"Conversation {index + 1}"
    mapping = conv.get("mapping")
    if not isinstance(mapping, dict) or not mapping:
        return PreparedSession(
            sid, {}, [], [f"{name} has no messages (no mapping); skipped."], NO_MAPPING
        )
    path = _active_path(mapping, conv.get("current_node"), name=name, warnings=warnings)
    created = from_epoch(conv.get("create_time"))
    messages = _messages(path, created, name=name, warnings=warnings)
    check_message_total(len(messages), where=name)
    if not messages:
        return PreparedSession(sid, {}, [], [f"{name} has no text messages; skipped."], "empty")
    off_path = sum(1 for node in mapping.values() if _visible(node)) - len(messages)
    if off_path > 0:
        warnings.append(
            f"{name}: {off_path} message(s) on other branches (edited or regenerated) left out."
        )
    created = created or messages[0]["created_at"]
    updated = from_epoch(conv.get("update_time"))
    values = {
        "title": title,
        "description": None,
        "context_data": None,
        "session_metadata": clean_json({"import": {"source": SOURCE, "conversation_id": key}}),
        "is_active": not conv.get("is_archived", False),
        "pinned": False,
        "created_at": created,
        "last_activity_at": max(t for t in (updated, messages[-1]["created_at"], created) if t),
    }
    return PreparedSession(sid, values, messages, warnings)


def _title(value: Any, warnings: list[str]) -> str | None:
    """The title, whitespace tidied, cut to 255 characters."""
    if not isinstance(value, str):
        return None
    title = " ".join(value.split())
    if len(title) > 255:
        warnings.append(f"The title {title[:40]!r}… was shortened to 255 characters.")
        title = title[:254] + "…"
    return check_title(title)


def _active_path(mapping: dict, current: Any, *, name: str, warnings: list[str]) -> list[dict]:
    """The nodes from the root to `current` (the newest leaf when it is missing)."""
    if not isinstance(current, str) or current not in mapping:
        current = _newest_leaf(mapping)
        warnings.append(f"{name} names no current message; its newest branch was imported.")
    path, seen = [], set()
    node_id: Any = current
    while isinstance(node_id, str) and node_id in mapping and node_id not in seen:
        seen.add(node_id)
        node = mapping[node_id]
        if not isinstance(node, dict):
            break
        path.append(node)
        node_id = node.get("parent")
    path.reverse()
    return path


def _newest_leaf(mapping: dict) -> str | None:
    """The id of the childless node with the latest message time."""
    leaves = [
        (from_epoch(_message(node).get("create_time")) or datetime.min.replace(tzinfo=UTC), node_id)
        for node_id, node in mapping.items()
        if isinstance(node, dict) and not node.get("children")
    ]
    return max(leaves)[1] if leaves else None


def _message(node: Any) -> dict:
    """The node's message, or {}."""
    message = node.get("message") if isinstance(node, dict) else None
    return message if isinstance(message, dict) else {}


def _visible(node: Any) -> bool:
    """True when the node carries a message the reader would see."""
    return _text_of(_message(node)) is not None


def _text_of(message: dict) -> str | None:
    """The text a reader sees, or None for a node to leave out."""
    author = message.get("author")
    role = author.get("role") if isinstance(author, dict) else None
    metadata = message.get("metadata") if isinstance(message.get("metadata"), dict) else {}
    if role not in SHOWN_ROLES or metadata.get("is_visually_hidden_from_conversation"):
        return None
    if message.get("recipient", "all") != "all":  # a call to a tool, not a reply
        return None
    content = message.get("content")
    if not isinstance(content, dict) or content.get("content_type") in HIDDEN_CONTENT:
        return None
    text = _content_text(content)
    return text if text.strip() else None


def _content_text(content: dict) -> str:
    """The text of a content object: its parts (placeholders for non-text) or its `text`."""
    parts = content.get("parts")
    if isinstance(parts, list):
        return "\n".join(filter(None, map(_part_text, parts)))
    text = content.get("text")
    if isinstance(text, str):
        return f"```\n{text}\n```" if content.get("content_type") == "code" else text
    return ""


def _part_text(part: Any) -> str:
    """A part as text: strings as they are, files and images as a short placeholder."""
    if isinstance(part, str):
        return part
    if isinstance(part, dict):
        kind = part.get("content_type")
        if isinstance(part.get("text"), str) and kind not in PLACEHOLDERS:
            return part["text"]
        return PLACEHOLDERS.get(kind, "[attachment]")
    return ""


def _messages(
    path: list[dict], created: datetime | None, *, name: str, warnings: list[str]
) -> list[dict]:
    """Message rows for the visible nodes of `path`, times kept (else the previous one)."""
    rows, last = [], created
    for node in path:
        message = _message(node)
        text = _text_of(message)
        if text is None:
            continue
        at = from_epoch(message.get("create_time")) or last or from_epoch(0)
        last = at
        metadata = message.get("metadata") if isinstance(message.get("metadata"), dict) else {}
        meta = {"import": {"source": SOURCE, "message_id": message.get("id") or node.get("id")}}
        if isinstance(metadata.get("model_slug"), str):
            meta["model"] = metadata["model_slug"]
        rows.append(
            _row(
                message["author"]["role"], text, at, clean_json(meta), name=name, warnings=warnings
            )
        )
    return rows


def _row(role: str, text: str, at: datetime, meta: dict, *, name: str, warnings: list[str]) -> dict:
    """One message row with every column."""
    return {
        "role": role,
        "content": import_content(text, where=name, warnings=warnings),
        "tools_used": [],
        "processing_time_ms": None,
        "token_count": None,
        "has_error": False,
        "error_message": None,
        "message_metadata": meta,
        "feedback": None,
        "feedback_comment": None,
        "client_id": None,
        "created_at": at,
    }
