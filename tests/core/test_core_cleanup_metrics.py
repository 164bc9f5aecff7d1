"""Retention cleanup (batched, all users) and session metrics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from pa_core import ValidationError
from pa_core.service import sessions as sessions_module
from support.aging import age_session


def test_cleanup_old_sessions(svc, alice, bob, engine, monkeypatch):
    monkeypatch.setattr(sessions_module, "CLEANUP_BATCH", 2)
    old = [svc.create_session(user=u) for u in (alice, alice, bob, bob, alice)]
    fresh = svc.create_session(user=alice)
    for s in old + [fresh]:
        svc.add_message(s.session_id, user=alice if s.user_id == alice.id else bob, content="x")
    for s in old:
        age_session(engine, s.session_id, 100)
    assert svc.cleanup_old_sessions(90, dry_run=True) == 5
    assert svc.get_session(old[0].session_id, user=alice) is not None
    batches = []
    assert svc.cleanup_old_sessions(90, progress=batches.append) == 5
    assert batches == [2, 2, 1]
    assert svc.get_session(old[0].session_id, user=alice) is None
    assert svc.get_session(fresh.session_id, user=alice) is not None
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM conversation_messages")).scalar() == 1
    assert svc.cleanup_old_sessions(90) == 0
    with pytest.raises(ValidationError):
        svc.cleanup_old_sessions(-1)


def test_metrics_empty(svc, alice):
    m = svc.session_metrics(user=alice)
    assert m.messages == 0 and m.sessions == 0 and m.error_rate == 0.0
    assert m.processing_time_p95_ms is None and m.daily == [] and m.tool_usage == {}
    assert m.per_user is None


def test_metrics_figures(svc, alice, bob):
    s1 = svc.create_session(user=alice)
    s2 = svc.create_session(user=alice)
    times = list(range(10, 210, 10))  # 20 replies: 10..200 ms
    for i, t in enumerate(times):
        sid = (s1 if i % 2 else s2).session_id
        svc.add_message(sid, user=alice, content=f"q{i}")
        svc.add_message(
            sid,
            user=alice,
            role="assistant",
            content=f"a{i}",
            processing_time_ms=t,
            token_count=5,
            tools_used=["calculator", "datetime"] if i < 3 else ["calculator"],
            has_error=i == 0,
        )
    bs = svc.create_session(user=bob)
    svc.add_message(bs.session_id, user=bob, content="bob")
    m = svc.session_metrics(user=alice)
    assert m.messages == 40 and m.user_messages == 20 and m.assistant_messages == 20
    assert m.sessions == 2 and m.sessions_created == 2 and m.messages_per_session == 20.0
    assert m.processing_time_mean_ms == pytest.approx(105.0)
    assert m.processing_time_p95_ms == 190.0  # nearest rank: ceil(0.95 * 20) = 19th value
    assert m.errors == 1 and m.error_rate == pytest.approx(1 / 20)
    assert m.total_tokens == 100
    assert m.tool_usage == {"calculator": 20, "datetime": 3}
    assert m.active_days == 1 and len(m.daily) == 1 and m.daily[0].messages == 40
    everyone = svc.session_metrics()
    assert everyone.messages == 41 and everyone.sessions == 3
    assert [(u.username, u.messages) for u in everyone.per_user] == [("alice", 40), ("bob", 1)]
    future = datetime.now(UTC) + timedelta(days=1)
    assert svc.session_metrics(user=alice, since=future).messages == 0
    assert svc.session_metrics(user=alice, until=future).messages == 40
