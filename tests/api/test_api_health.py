"""GET /health and a database outage (503, never a 500), on both backends."""

from __future__ import annotations

import socket

from fastapi.testclient import TestClient

from pa_core import ConversationService
from pa_core.api import create_app
from pa_core.db import create_db_engine

P = "/api/v1/personal-assistant"


def test_health_needs_no_auth_and_reports_database(client):
    r = client.get(f"{P}/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "reachable"}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_database_down_is_503_not_500(auth_file, as_alice):
    url = f"postgresql+psycopg2://postgres@127.0.0.1:{_closed_port()}/nowhere"
    engine = create_db_engine(url, pool_pre_ping=False)
    try:
        app = create_app(ConversationService(engine), auth_config=auth_file)
        with TestClient(app) as c:
            r = c.get(f"{P}/health")
            assert r.status_code == 503
            assert r.json() == {"status": "unavailable", "database": "unreachable"}
            for method, url_ in (("GET", f"{P}/sessions"), ("POST", f"{P}/sessions/new")):
                r = c.request(method, url_, headers=as_alice)
                assert r.status_code == 503, r.text
                assert "database" in r.json()["detail"]
                assert "Traceback" not in r.text
    finally:
        engine.dispose()
