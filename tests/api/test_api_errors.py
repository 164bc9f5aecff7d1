"""Limits and error bodies: 413, 422 for bad input and unknown parameters, 405 with Allow."""

from __future__ import annotations

from pa_core.api import MAX_BODY_BYTES
from pa_core.validation import MAX_CONTENT_CHARS

P = "/api/v1/personal-assistant"


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


def test_unknown_query_parameter_and_wrong_method(client, as_alice):
    r = client.get(f"{P}/sessions", params={"limt": 5}, headers=as_alice)
    assert r.status_code == 422 and "'limt'" in r.json()["detail"]
    r = client.put(f"{P}/sessions/new", headers=as_alice)
    assert r.status_code == 405 and r.headers["Allow"] == "POST"
    r = client.put(f"{P}/sessions/{'0' * 32}", headers=as_alice)
    assert r.status_code == 405 and r.headers["Allow"] == "DELETE, GET, PATCH"
