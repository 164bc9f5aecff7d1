"""A private PostgreSQL server stopped and started again: the pool recovers without a failed
request, and a chat during the stop is written once, in order, when it is back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

import pa_core
from pa_core.agent import ContextCache, Outbox, PersonalAssistant
from pa_core.agent.assistant import UNSAVED_NOTE
from pa_core.config import Settings
from pa_core.db import create_db_engine
from pa_core.errors import StorageError
from support.pg_cluster import ThrowawayCluster


@pytest.fixture(scope="module")
def cluster():
    """A throwaway cluster of this module only (it is stopped and started by the tests)."""
    server = ThrowawayCluster()
    if not server.available:
        pytest.skip("no initdb/pg_ctl on this machine")
    url = server.start()
    pa_core.migrate(url)
    yield server, url
    server.stop()


def test_a_restarted_server_costs_no_failed_request(cluster):
    server, url = cluster
    engine = create_db_engine(url, pool_size=2)
    unpinged = create_db_engine(url, pool_size=2, pool_pre_ping=False)  # the control
    try:
        svc, plain = pa_core.ConversationService(engine), pa_core.ConversationService(unpinged)
        alice = svc.ensure_user("alice")
        sid = svc.create_session(user=alice).session_id
        svc.add_message(sid, user=alice, content="before")
        plain.get_messages(sid, user=alice)  # both pools now hold a live connection
        server.pause()
        server.resume()
        assert [m.content for m in svc.get_messages(sid, user=alice)] == ["before"]
        svc.add_message(sid, user=alice, content="after")
        with pytest.raises(StorageError):  # without the ping the stale connection fails once
            plain.get_messages(sid, user=alice)
    finally:
        engine.dispose()
        unpinged.dispose()


def test_a_chat_while_the_server_is_stopped_is_written_once_when_it_returns(cluster, tmp_path):
    server, url = cluster
    engine = create_db_engine(url, pool_size=2)
    try:
        svc = pa_core.ConversationService(engine)
        bob = svc.ensure_user("bob")
        settings = Settings(PA_LLM_PROVIDER="offline")
        assistant = PersonalAssistant(
            svc, bob, settings=settings, cache=ContextCache(), outbox=Outbox(tmp_path),
            clock=lambda: datetime(2026, 1, 1, tzinfo=UTC),
        )  # fmt: skip
        sid = assistant.chat("What is 1 + 1?").session_id
        server.pause()
        try:
            during = assistant.chat("What is 2 + 2?", session_id=sid)
        finally:
            server.resume()
        assert during.saved is False and during.content.endswith(UNSAVED_NOTE)
        assert "4" in during.content and assistant.pending_count == 2
        after = assistant.chat("What is 3 + 3?", session_id=sid)
        assert after.saved is True and assistant.pending_count == 0
        assert [m.content for m in svc.get_messages(sid, user=bob)] == [
            "What is 1 + 1?", "1 + 1 = **2**",
            "What is 2 + 2?", "2 + 2 = **4**",
            "What is 3 + 3?", "3 + 3 = **6**",
        ]  # fmt: skip
        with engine.connect() as conn:
            ids = conn.execute(text("SELECT count(DISTINCT client_id) FROM conversation_messages"))
            assert ids.scalar() >= 4  # every message the assistant wrote carries a client id
    finally:
        engine.dispose()
