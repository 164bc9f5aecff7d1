"""A small ChatGPT export in ChatGPT's own shape (conversations.json, and the export .zip).

Each conversation is a message tree (`mapping`) read from `current_node` up to the root; this
sample has a hidden system node and a regenerated reply left off the active path.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

BASE_TIME = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC


def _node(node_id: str, parent: str | None, children: list[str], message: dict | None) -> dict:
    return {"id": node_id, "parent": parent, "children": children, "message": message}


def _message(node_id: str, role: str, text: str, at: float, **metadata: Any) -> dict:
    return {
        "id": node_id,
        "author": {"role": role, "name": None, "metadata": {}},
        "create_time": at,
        "update_time": None,
        "content": {"content_type": "text", "parts": [text]},
        "status": "finished_successfully",
        "end_turn": role == "assistant" or None,
        "weight": 1.0,
        "metadata": metadata,
        "recipient": "all",
    }


def conversation(conv_id: str, title: str, turns: list[tuple[str, str]], *, start: float) -> dict:
    """One conversation: root, a hidden system node, then `turns` (role, text) in a chain.

    The first assistant reply also has a regenerated sibling that is not on the active path.
    """
    ids = [f"{conv_id}-root", f"{conv_id}-sys"] + [f"{conv_id}-{i}" for i in range(len(turns))]
    mapping = {
        ids[0]: _node(ids[0], None, [ids[1]], None),
        ids[1]: _node(
            ids[1],
            ids[0],
            [ids[2]],
            _message(ids[1], "system", "", start, is_visually_hidden_from_conversation=True),
        ),
    }
    for i, (role, text) in enumerate(turns):
        node_id, parent = ids[i + 2], ids[i + 1]
        children = [ids[i + 3]] if i + 3 < len(ids) else []
        message = _message(node_id, role, text, start + i)
        mapping[node_id] = _node(node_id, parent, children, message)
    first_reply = next(i for i, (role, _) in enumerate(turns) if role == "assistant")
    branch = f"{conv_id}-regenerated"
    parent = ids[first_reply + 1]
    mapping[parent]["children"].append(branch)
    mapping[branch] = _node(
        branch, parent, [], _message(branch, "assistant", "An earlier draft.", start + 0.5)
    )
    return {
        "title": title,
        "create_time": start,
        "update_time": start + len(turns),
        "mapping": mapping,
        "current_node": ids[-1],
        "conversation_id": conv_id,
        "id": conv_id,
        "moderation_results": [],
        "is_archived": False,
    }


LISBON = [
    ("user", "Plan a weekend in Lisbon"),
    ("assistant", "Day 1: Alfama and the castle. Day 2: Belem and pasteis de nata."),
    ("user", "And a budget?"),
    ("assistant", "About 300 EUR for two days, without the flight."),
]
SOURDOUGH = [
    ("user", "How do I feed a sourdough starter?"),
    ("assistant", "Equal weights of flour and water, once a day at room temperature."),
]


def conversations() -> list[dict]:
    """Two conversations: 'Weekend in Lisbon' (4 messages) and 'Sourdough starter' (2)."""
    return [
        conversation("c0ffee00-lisbon", "Weekend in Lisbon", LISBON, start=BASE_TIME),
        conversation("c0ffee00-bread", "Sourdough starter", SOURDOUGH, start=BASE_TIME + 86_400),
    ]


def conversations_json() -> bytes:
    """conversations.json as ChatGPT writes it."""
    return json.dumps(conversations(), ensure_ascii=False).encode("utf-8")


def export_zip() -> bytes:
    """A ChatGPT export .zip: conversations.json beside the other files ChatGPT puts there."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("conversations.json", conversations_json())
        zf.writestr("user.json", json.dumps({"id": "user-123", "email": "a@example.com"}))
        zf.writestr("chat.html", "<html><body>ChatGPT export</body></html>")
    return buffer.getvalue()
