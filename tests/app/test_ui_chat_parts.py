"""The Chat page's pure parts: fresh chat ids and the folding of long messages."""

from __future__ import annotations

import uuid

from pa_core.config import Settings
from ui import chat_ids, chat_view


def test_fresh_ids_are_recognised_for_their_user_only():
    settings = Settings(PA_COOKIE_KEY="k" * 40)
    sid = chat_ids.fresh_chat_id(settings, 7)
    assert str(uuid.UUID(sid)) == sid and uuid.UUID(sid).version == 4
    assert chat_ids.is_fresh_chat_id(settings, 7, sid)
    assert chat_ids.is_fresh_chat_id(settings, 7, sid.upper())
    assert not chat_ids.is_fresh_chat_id(settings, 8, sid)  # another user's fresh id
    assert not chat_ids.is_fresh_chat_id(Settings(PA_COOKIE_KEY="z" * 40), 7, sid)
    assert not chat_ids.is_fresh_chat_id(settings, 7, str(uuid.uuid4()))
    for bad in (None, "", "not-a-uuid", "x" * 5000):
        assert not chat_ids.is_fresh_chat_id(settings, 7, bad)
    assert len({chat_ids.fresh_chat_id(settings, 7) for _ in range(50)}) == 50


def test_fold_cuts_long_messages_at_a_line_and_closes_code():
    assert chat_view.fold("short") is None
    lines = [f"line {i}" for i in range(100)]
    head = chat_view.fold("\n".join(lines))
    assert head.startswith("line 0\nline 1") and "line 99" not in head and head.endswith("…")
    code = "```python\n" + "\n".join("x = 1" for _ in range(100)) + "\n```"
    folded = chat_view.fold(code)
    assert folded.count("```") == 2
    one_line = "y" * 10_000
    assert len(chat_view.fold(one_line)) < 3000
