"""Feedback on replies, pinned sessions, the pinned filter, retention and feedback metrics."""

from __future__ import annotations

import pytest

from pa_core import MessageRecord, SessionNotFound, SessionRecord, ValidationError
from support.aging import age_session


def _chat(svc, user):
    s = svc.create_session(user=user, title="chat")
    q = svc.add_message(s.session_id, user=user, content="question")
    a = svc.add_message(s.session_id, user=user, role="assistant", content="answer")
    return s, q, a


def test_feedback_is_stored_and_cleared(svc, alice):
    s, _q, a = _chat(svc, alice)
    rated = svc.set_feedback(a.id, user=alice, rating=1, comment="  spot on ")
    assert isinstance(rated, MessageRecord)
    assert (rated.feedback, rated.feedback_comment, rated.content) == (1, "spot on", "answer")
    stored = svc.get_messages(s.session_id, user=alice)[-1]
    assert (stored.feedback, stored.feedback_comment) == (1, "spot on")
    down = svc.set_feedback(a.id, user=alice, rating=-1)
    assert (down.feedback, down.feedback_comment) == (-1, None)
    cleared = svc.set_feedback(a.id, user=alice, rating=None)
    assert cleared.feedback is None


def test_feedback_rules(svc, alice, bob):
    _s, q, a = _chat(svc, alice)
    with pytest.raises(ValidationError, match="assistant"):
        svc.set_feedback(q.id, user=alice, rating=1)
    with pytest.raises(SessionNotFound):
        svc.set_feedback(a.id, user=bob, rating=1)
    with pytest.raises(SessionNotFound):
        svc.set_feedback(10**9, user=alice, rating=1)
    for bad_id in ("1", None, 2**70, True):
        with pytest.raises(SessionNotFound):
            svc.set_feedback(bad_id, user=alice, rating=1)
    for bad in (2, 0, True, "1"):
        with pytest.raises(ValidationError, match="rating"):
            svc.set_feedback(a.id, user=alice, rating=bad)
    with pytest.raises(ValidationError, match="too long"):
        svc.set_feedback(a.id, user=alice, rating=1, comment="x" * 2001)
    assert svc.get_messages(_s.session_id, user=alice)[-1].feedback is None


def test_pinning_and_the_pinned_filter(svc, alice, bob):
    a = svc.create_session(user=alice, title="a")
    b = svc.create_session(user=alice, title="b")
    pinned = svc.set_session_pinned(a.session_id, user=alice, pinned=True)
    assert isinstance(pinned, SessionRecord) and pinned.pinned is True
    assert [s.session_id for s in svc.get_user_sessions(alice, pinned=True)] == [a.session_id]
    assert [s.session_id for s in svc.get_user_sessions(alice, pinned=False)] == [b.session_id]
    assert len(svc.get_user_sessions(alice)) == 2
    assert svc.set_session_pinned(a.session_id, user=alice, pinned=False).pinned is False
    with pytest.raises(SessionNotFound):
        svc.set_session_pinned(a.session_id, user=bob, pinned=True)
    assert svc.get_session(a.session_id, user=alice).pinned is False


def test_retention_keeps_pinned_sessions(svc, alice, engine):
    keep = svc.create_session(user=alice, title="keep")
    drop = svc.create_session(user=alice, title="drop")
    svc.set_session_pinned(keep.session_id, user=alice, pinned=True)
    for s in (keep, drop):
        age_session(engine, s.session_id, 400)
    assert svc.cleanup_old_sessions(90, dry_run=True) == 1
    assert svc.count_pinned_idle(90) == 1
    assert svc.cleanup_old_sessions(90) == 1
    assert svc.get_session(keep.session_id, user=alice) is not None
    assert svc.get_session(drop.session_id, user=alice) is None


def test_metrics_count_feedback(svc, alice, bob):
    _s, _q, a = _chat(svc, alice)
    _s2, _q2, a2 = _chat(svc, alice)
    _s3, _q3, b = _chat(svc, bob)
    svc.set_feedback(a.id, user=alice, rating=1)
    svc.set_feedback(a2.id, user=alice, rating=-1)
    svc.set_feedback(b.id, user=bob, rating=1)
    mine = svc.session_metrics(user=alice)
    assert (mine.feedback_up, mine.feedback_down) == (1, 1)
    everyone = svc.session_metrics()
    assert (everyone.feedback_up, everyone.feedback_down) == (2, 1)
