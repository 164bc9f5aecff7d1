"""Security headers on every API response, and /docs: off by default, without a CDN when on."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from pa_core.api import PREFIX, create_app
from pa_core.config import Settings

P = PREFIX


def assert_hardened(r, *, cache: str = "no-store") -> None:
    """The headers every response carries."""
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert r.headers["Cache-Control"] == cache


@pytest.mark.parametrize(
    "method,path,who,status",
    [
        ("GET", "/sessions", "alice", 200),
        ("GET", "/export.csv", "alice", 200),
        ("GET", "/export.json", "alice", 200),
        ("GET", "/search?q=tomato", "alice", 200),
        ("GET", "/metrics", "alice", 200),
        ("GET", "/sessions", None, 401),
        ("GET", "/sessions/00000000-0000-0000-0000-000000000000", "alice", 404),
        ("GET", "/health", None, 200),
        ("GET", "/nowhere", None, 404),
        ("DELETE", "/health", None, 405),
    ],
)
def test_every_response_is_hardened(client, creds, seeded, method, path, who, status):
    headers = creds(who) if who else {}
    r = client.request(method, P + path, headers=headers)
    assert r.status_code == status, r.text
    assert_hardened(r)


def test_chat_stream_and_openapi_and_oversize_bodies_are_hardened(client, as_alice):
    r = client.post(f"{P}/chat?stream=true", json={"message": "12 * 7?"}, headers=as_alice)
    assert r.status_code == 200 and "event: done" in r.text
    assert_hardened(r)
    assert_hardened(client.get("/openapi.json"))
    big = client.post(
        f"{P}/chat",
        content=b"x" * (2 * 1024 * 1024),
        headers={**as_alice, "Content-Type": "application/json"},
    )
    assert big.status_code == 413
    assert_hardened(big)


def test_docs_are_off_by_default(client):
    assert client.get("/docs").status_code == 404
    assert client.get("/redoc").status_code == 404
    assert client.get("/docs/oauth2-redirect").status_code == 404


def test_docs_when_enabled_load_nothing_from_elsewhere(svc, auth_file, monkeypatch):
    monkeypatch.setenv("PA_API_DOCS", "1")
    app = create_app(svc, Settings(), auth_config=auth_file)
    with TestClient(app) as c:
        r = c.get("/docs")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        page = r.text
        assert "/openapi.json" in page and f"{P}/sessions/new" in page
        assert "<script" not in page and "http://" not in page and "https://" not in page
        assert "cdn" not in page.lower()
        assert_hardened(r)
        assert "default-src 'none'" in r.headers["Content-Security-Policy"]
        assert c.get("/redoc").status_code == 404
        assert "/docs" not in c.get("/openapi.json").json()["paths"]
