"""Superseded replies: a reply replaced by Retry or Regenerate is kept, marked, and exported."""

from __future__ import annotations

import json

import pytest

from pa_core import SessionNotFound, ValidationError
from pa_core.service.supersede import is_superseded


def _chat(svc, user):
    s = svc.create_session(user=user, title="chat")
    q = svc.add_message(s.session_id, user=user, content="question")
    a = svc.add_message(
        s.session_id, user=user, role="assistant", content="answer", metadata={"model": "m"}
    )
    return s, q, a


def test_a_reply_is_marked_and_unmarked_keeping_its_metadata(svc, alice):
    s, _q, a = _chat(svc, alice)
    marked = svc.set_message_superseded(a.id, user=alice)
    assert is_superseded(marked) and marked.message_metadata["model"] == "m"
    assert marked.content == "answer"
    [_, stored] = svc.get_messages(s.session_id, user=alice)
    assert stored.message_metadata == {"model": "m", "superseded": True}
    again = svc.set_message_superseded(a.id, user=alice, superseded=False)
    assert again.message_metadata == {"model": "m"} and not is_superseded(again)
    # A reply without any metadata gets it.
    b = svc.add_message(s.session_id, user=alice, role="assistant", content="second")
    assert svc.set_message_superseded(b.id, user=alice).message_metadata == {"superseded": True}


def test_rules_user_messages_other_users_and_bad_ids(svc, alice, bob):
    _s, q, a = _chat(svc, alice)
    with pytest.raises(ValidationError, match="assistant"):
        svc.set_message_superseded(q.id, user=alice)
    for bad in (a.id, 10**9, "1", True, 0, -5, 2**70):
        with pytest.raises(SessionNotFound):
            svc.set_message_superseded(bad, user=bob if bad == a.id else alice)
    assert not is_superseded(svc.get_messages(_s.session_id, user=alice)[-1])


def test_exports_show_the_mark(svc, alice):
    s, _q, a = _chat(svc, alice)
    svc.add_message(s.session_id, user=alice, role="assistant", content="better answer")
    svc.set_message_superseded(a.id, user=alice)
    md = svc.export_markdown(alice, s.session_id)
    assert md.count("Superseded: replaced by a later reply") == 1
    assert md.index("Superseded") < md.index("better answer")
    data = json.loads("".join(svc.export_json(alice, [s.session_id])))
    metas = [m["message_metadata"] for m in data["sessions"][0]["messages"]]
    assert metas[1] == {"model": "m", "superseded": True} and metas[2] is None
