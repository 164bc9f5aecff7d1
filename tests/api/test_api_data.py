"""Search, metrics, CSV export, limits and outage handling of the API on both backends."""

from __future__ import annotations

import base64
import csv
import io
import json
import socket

import pytest
from fastapi.testclient import TestClient

from pa_core import ConversationService
from pa_core.api import MAX_BODY_BYTES, APIError, create_app, decode_cursor, encode_cursor
from pa_core.db import create_db_engine
from pa_core.validation import MAX_CONTENT_CHARS

P = "/api/v1/personal-assistant"


@pytest.fixture
def seeded(svc):
    """alice has two sessions with messages, bob one; returns (alice_sids, bob_sid)."""
    alice = svc.ensure_user("alice")
    bob = svc.ensure_user("bob")
    a1 = svc.create_session(user=alice, title="Garden").session_id
    a2 = svc.create_session(user=alice, title="=cmd|' /C calc'!A0").session_id
    svc.add_message(a1, user=alice, content="How deep should tomato seedlings be planted?")
    svc.add_message(
        a1, user=alice, role="assistant", content="Plant tomatoes deep.", tools_used=["x"]
    )
    svc.add_message(a2, user=alice, content="=SUM(A1:A9) is a formula")
    b1 = svc.create_session(user=bob, title="Bob's").session_id
    svc.add_message(b1, user=bob, content="tomato soup recipe", has_error=False)
    return [a1, a2], b1


def test_search_finds_only_own_messages(client, seeded, as_alice, as_bob):
    (a1, _), b1 = seeded
    r = client.get(f"{P}/search", params={"q": "tomato"}, headers=as_alice)
    assert r.status_code == 200, r.text
    hits = r.json()["items"]
    assert hits and {h["session_id"] for h in hits} == {a1}
    assert all("tomato" in h["snippet"].lower() for h in hits)
    r = client.get(f"{P}/search", params={"q": "tomato"}, headers=as_bob)
    assert [h["session_id"] for h in r.json()["items"]] == [b1]
    assert client.get(f"{P}/search", params={"q": ""}, headers=as_alice).status_code == 422
    assert client.get(f"{P}/search", headers=as_alice).status_code == 422
    r = client.get(f"{P}/search", params={"q": "x" * 501}, headers=as_alice)
    assert r.status_code == 422
    for odd in ('"unclosed', "a AND OR NOT", "-", "\x00", "*:(", "NEAR(a b"):
        r = client.get(f"{P}/search", params={"q": odd}, headers=as_alice)
        assert r.status_code == 200, (odd, r.text)


def test_metrics_own_for_users_everyone_for_admins(client, seeded, as_alice, as_root):
    r = client.get(f"{P}/metrics", headers=as_alice)
    assert r.status_code == 200, r.text
    m = r.json()
    assert m["scope"] == "mine" and m["messages"] == 3 and m["sessions"] == 2
    assert m["per_user"] is None
    assert client.get(f"{P}/metrics", params={"scope": "all"}, headers=as_alice).status_code == 403
    r = client.get(f"{P}/metrics", headers=as_root)
    m = r.json()
    assert m["scope"] == "all" and m["messages"] == 4
    assert {u["username"]: u["messages"] for u in m["per_user"]} == {"alice": 3, "bob": 1}
    r = client.get(f"{P}/metrics", params={"scope": "mine"}, headers=as_root)
    assert r.json()["messages"] == 0
    r = client.get(f"{P}/metrics", params={"since": "2099-01-01T00:00:00Z"}, headers=as_alice)
    assert r.status_code == 200 and r.json()["messages"] == 0
    r = client.get(f"{P}/metrics", params={"since": "0001-01-01T00:00:00+05:00"}, headers=as_alice)
    assert r.status_code == 422
    r = client.get(f"{P}/metrics", params={"since": "yesterday"}, headers=as_alice)
    assert r.status_code == 422


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def test_export_csv_all_and_one_session(client, seeded, as_alice, as_root):
    (a1, a2), b1 = seeded
    r = client.get(f"{P}/export.csv", headers=as_alice)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = _rows(r.text)
    assert len(rows) == 3 and {row["session_id"] for row in rows} == {a1, a2}
    assert all(row["username"] == "alice" for row in rows)
    formula = next(row for row in rows if row["session_id"] == a2)
    assert formula["content"].startswith("'=") and formula["session_title"].startswith("'=")
    r = client.get(f"{P}/sessions/{a1}/export.csv", headers=as_alice)
    assert r.status_code == 200
    assert [row["content"] for row in _rows(r.text)] == [
        "How deep should tomato seedlings be planted?",
        "Plant tomatoes deep.",
    ]
    assert client.get(f"{P}/sessions/{b1}/export.csv", headers=as_alice).status_code == 404
    empty = client.get(f"{P}/export.csv", headers=as_root)
    assert empty.status_code == 200 and _rows(empty.text) == []


def test_oversized_message_is_413_and_empty_is_422(client, svc, as_alice):
    sid = client.post(f"{P}/sessions/new", headers=as_alice).json()["session_id"]
    r = client.post(
        f"{P}/chat",
        json={"message": "x" * (MAX_CONTENT_CHARS + 1), "session_id": sid},
        headers=as_alice,
    )
    assert r.status_code == 413
    assert "200,000" in r.json()["detail"]
    r = client.post(f"{P}/chat", content=b"x" * (MAX_BODY_BYTES + 1), headers=as_alice)
    assert r.status_code == 413
    chunks = iter([b"x" * (MAX_BODY_BYTES // 2 + 1)] * 2)  # chunked: no Content-Length
    r = client.post(f"{P}/chat", content=chunks, headers=as_alice)
    assert r.status_code == 413 and "1,048,576 bytes" in r.json()["detail"]
    r = client.post(f"{P}/chat", json={"message": ""}, headers=as_alice)
    assert r.status_code == 422 and "message" in r.json()["detail"]
    r = client.post(f"{P}/chat", json={"message": "   \n"}, headers=as_alice)
    assert r.status_code == 422 and "empty" in r.json()["detail"]
    r = client.post(f"{P}/chat", json={"message": 42}, headers=as_alice)
    assert r.status_code == 422
    r = client.post(f"{P}/chat", json={}, headers=as_alice)
    assert r.status_code == 422 and "message" in r.json()["detail"]
    assert svc.get_session(sid, user=svc.get_user("alice")).message_count == 0


def test_cursor_round_trip_and_tamper():
    from datetime import UTC, datetime

    when = datetime(2026, 11, 24, 8, 0, 0, 123456, tzinfo=UTC)
    assert decode_cursor(encode_cursor(when, 42)) == (when, 42)

    def forged(stamp: str, pk: object) -> str:  # encoded exactly as encode_cursor does
        raw = json.dumps([stamp, pk], separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    assert forged(when.isoformat(), 42) == encode_cursor(when, 42)
    assert decode_cursor(forged(when.isoformat(), 2**63 - 1)) == (when, 2**63 - 1)
    tampered = [
        forged("2026-11-24T08:00:00", 42),  # no time zone
        forged(when.isoformat(), True),  # a boolean id
        forged(when.isoformat(), -1),
        forged(when.isoformat(), 2**63),  # beyond BIGINT
    ]
    for cursor in tampered:
        with pytest.raises(APIError) as err:
            decode_cursor(cursor)
        assert err.value.status == 422, cursor
        assert "cursor is not valid" in err.value.detail


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


def test_openapi_document_lists_every_endpoint(client):
    doc = client.get("/openapi.json").json()
    paths = doc["paths"]
    for path, method in [
        ("/sessions/new", "post"),
        ("/sessions", "get"),
        ("/sessions/{session_id}/messages", "get"),
        ("/sessions/{session_id}", "delete"),
        ("/sessions/{session_id}", "patch"),
        ("/chat", "post"),
        ("/sessions/{session_id}/export.csv", "get"),
        ("/export.csv", "get"),
        ("/search", "get"),
        ("/metrics", "get"),
        ("/health", "get"),
    ]:
        assert method in paths[P + path], (path, method)
    assert doc["components"]["securitySchemes"]["basicAuth"]["scheme"] == "basic"
    assert "security" not in paths[P + "/health"]["get"]
    assert "security" in paths[P + "/sessions"]["get"]
    assert client.get("/docs").status_code == 200


def test_unknown_query_parameter_and_wrong_method(client, as_alice):
    r = client.get(f"{P}/sessions", params={"limt": 5}, headers=as_alice)
    assert r.status_code == 422 and "'limt'" in r.json()["detail"]
    r = client.put(f"{P}/sessions/new", headers=as_alice)
    assert r.status_code == 405 and r.headers["Allow"] == "POST"
    r = client.put(f"{P}/sessions/{'0' * 32}", headers=as_alice)
    assert r.status_code == 405 and r.headers["Allow"] == "DELETE, GET, PATCH"
