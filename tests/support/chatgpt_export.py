"""Test data: ChatGPT export files (the static fixture, small builders, zips)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

FIXTURE = Path(__file__).resolve().parents[1] / "core" / "data" / "chatgpt_conversations.json"


def fixture_bytes() -> bytes:
    """The realistic conversations.json of tests/core/data (3 conversations)."""
    return FIXTURE.read_bytes()


def zipped(payload: bytes, name: str = "conversations.json", extra: dict | None = None) -> bytes:
    """A ChatGPT-like export zip holding `payload` as `name` (plus `extra` files)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("chat.html", "<html>export</html>")
        for extra_name, data in (extra or {}).items():
            archive.writestr(extra_name, data)
        archive.writestr(name, payload)
    return out.getvalue()


def linear_conversation(conv_id: str, title: str, texts: list[str], start: float = 1.7e9) -> dict:
    """A ChatGPT conversation whose messages alternate user/assistant along one path."""
    mapping = {"root": {"id": "root", "message": None, "parent": None, "children": []}}
    parent = "root"
    for i, text in enumerate(texts):
        node_id = f"{conv_id}-n{i}"
        mapping[parent]["children"].append(node_id)
        mapping[node_id] = {
            "id": node_id,
            "parent": parent,
            "children": [],
            "message": {
                "id": node_id,
                "author": {"role": "user" if i % 2 == 0 else "assistant"},
                "create_time": start + i,
                "content": {"content_type": "text", "parts": [text]},
                "metadata": {},
                "recipient": "all",
            },
        }
        parent = node_id
    return {
        "title": title,
        "create_time": start,
        "update_time": start + len(texts),
        "mapping": mapping,
        "current_node": parent,
        "conversation_id": conv_id,
        "id": conv_id,
    }


def conversations_json(*conversations: dict) -> bytes:
    """conversations.json bytes of these conversations."""
    return json.dumps(list(conversations), ensure_ascii=False).encode("utf-8")
