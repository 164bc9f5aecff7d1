"""The throwaway PostgreSQL cluster the fixtures and benchmarks fall back to without a URL."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import pa_core
from support.pg_cluster import ThrowawayCluster


def test_throwaway_cluster_starts_migrates_and_stops():
    cluster = ThrowawayCluster()
    if not cluster.available:
        if os.environ.get("PA_REQUIRE_POSTGRES") == "1":
            pytest.fail("PA_REQUIRE_POSTGRES=1 but initdb/pg_ctl are missing")
        pytest.skip("no initdb/pg_ctl on this machine")
    url = cluster.start()
    try:
        pa_core.migrate(url)
        svc = pa_core.ConversationService.from_url(url)
        user = svc.ensure_user("cluster-user")
        s = svc.create_session(user=user)
        svc.add_message(s.session_id, user=user, content="stored in a throwaway cluster")
        assert [m.content for m in svc.get_messages(s.session_id, user=user)] == [
            "stored in a throwaway cluster"
        ]
        svc.engine.dispose()
    finally:
        cluster.stop()
    assert not Path(cluster.dir).exists()
