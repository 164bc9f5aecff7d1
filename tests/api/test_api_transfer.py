"""API: JSON and Markdown export, import (raw body and multipart), feedback and pinning."""

from __future__ import annotations

import json

from pa_core.api import PREFIX
from pa_core.service import import_source
from support.chatgpt_export import fixture_bytes, zipped


def _alice_sessions(client, as_alice):
    return client.get(f"{PREFIX}/sessions", headers=as_alice).json()["items"]


def test_import_raw_body_then_reimport(client, as_alice):
    r = client.post(
        f"{PREFIX}/import",
        content=fixture_bytes(),
        headers={**as_alice, "Content-Type": "application/json"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["sessions_imported"], body["sessions_skipped"]) == (2, 1)
    assert body["messages_imported"] == 6 and len(body["warnings"]) == 2
    again = client.post(f"{PREFIX}/import", content=fixture_bytes(), headers=as_alice).json()
    assert again["sessions_imported"] == 0 and again["sessions_skipped"] == 3
    assert len(_alice_sessions(client, as_alice)) == 2


def test_import_multipart_zip(client, as_alice, as_bob):
    files = {"file": ("export.zip", zipped(fixture_bytes()), "application/zip")}
    r = client.post(f"{PREFIX}/import", files=files, headers=as_alice)
    assert r.status_code == 200, r.text
    assert r.json()["sessions_imported"] == 2
    assert client.get(f"{PREFIX}/sessions", headers=as_bob).json()["items"] == []


def test_import_errors(client, as_alice, monkeypatch):
    r = client.post(f"{PREFIX}/import", content=b"not json at all", headers=as_alice)
    assert r.status_code == 422 and "neither a ChatGPT export" in r.json()["detail"]
    r = client.post(f"{PREFIX}/import", files={"other": ("x", b"[]")}, headers=as_alice)
    assert r.status_code == 422 and "field 'file'" in r.json()["detail"]
    r = client.post(f"{PREFIX}/import", content=b"", headers=as_alice)
    assert r.status_code == 422
    monkeypatch.setattr(import_source, "MAX_IMPORT_BYTES", 1000)
    r = client.post(f"{PREFIX}/import", content=b" " * 2000, headers=as_alice)
    assert r.status_code == 413 and "too large" in r.json()["detail"]
    files = {"file": ("big.json", b" " * 2000, "application/json")}
    assert client.post(f"{PREFIX}/import", files=files, headers=as_alice).status_code == 413
    assert _alice_sessions(client, as_alice) == []


def test_import_body_may_exceed_the_general_limit(client, as_alice):
    filler = b" " * (1024 * 1024 + 10)
    r = client.post(f"{PREFIX}/import", content=b"[" + filler + b"]", headers=as_alice)
    assert r.status_code == 200 and r.json()["sessions_imported"] == 0
    r = client.post(f"{PREFIX}/sessions/new", content=b"{" + filler + b"}", headers=as_alice)
    assert r.status_code == 413


def test_export_json_all_and_chosen(client, as_alice, as_bob, seeded):
    (a1, a2), b1 = seeded
    r = client.get(f"{PREFIX}/export.json", headers=as_alice)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    assert "attachment" in r.headers["content-disposition"]
    doc = r.json()
    assert doc["format"] == "personal-assistant-export" and doc["username"] == "alice"
    assert {s["session_id"] for s in doc["sessions"]} == {a1, a2}
    r = client.get(f"{PREFIX}/export.json", params={"session_id": [a2, b1]}, headers=as_alice)
    assert [s["session_id"] for s in r.json()["sessions"]] == [a2]
    # the export imports back for another user (new ids, nothing merged)
    imported = client.post(f"{PREFIX}/import", content=r.content, headers=as_bob).json()
    assert imported["sessions_imported"] == 1


def test_export_markdown(client, as_alice, as_bob, seeded):
    (a1, _a2), _b1 = seeded
    r = client.get(f"{PREFIX}/sessions/{a1}/export.md", headers=as_alice)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/markdown")
    assert r.text.startswith("# Garden\n") and "Tools used: `x`" in r.text
    assert client.get(f"{PREFIX}/sessions/{a1}/export.md", headers=as_bob).status_code == 404


def test_feedback(client, as_alice, as_bob, seeded):
    (a1, _a2), _b1 = seeded
    items = client.get(f"{PREFIX}/sessions/{a1}/messages", headers=as_alice).json()["items"]
    user_msg, reply = items
    url = f"{PREFIX}/messages/{reply['id']}/feedback"
    r = client.put(url, json={"rating": 1, "comment": "great"}, headers=as_alice)
    assert r.status_code == 200, r.text
    assert (r.json()["feedback"], r.json()["feedback_comment"]) == (1, "great")
    assert client.put(url, json={"rating": None}, headers=as_alice).json()["feedback"] is None
    assert client.put(url, json={"rating": 1}, headers=as_bob).status_code == 404
    assert client.put(url, json={"rating": 5}, headers=as_alice).status_code == 422
    assert client.put(url, json={}, headers=as_alice).status_code == 422
    user_url = f"{PREFIX}/messages/{user_msg['id']}/feedback"
    r = client.put(user_url, json={"rating": 1}, headers=as_alice)
    assert r.status_code == 422 and "assistant" in r.json()["detail"]
    doc = json.loads(client.get(f"{PREFIX}/export.json", headers=as_alice).content)
    assert all(m["feedback"] is None for s in doc["sessions"] for m in s["messages"])


def test_patch_pinned_and_the_pinned_filter(client, as_alice, as_bob, seeded):
    (a1, a2), _b1 = seeded
    r = client.patch(f"{PREFIX}/sessions/{a1}", json={"pinned": True}, headers=as_alice)
    assert r.status_code == 200 and r.json()["pinned"] is True
    pinned = client.get(f"{PREFIX}/sessions?pinned=true", headers=as_alice).json()["items"]
    assert [s["session_id"] for s in pinned] == [a1]
    others = client.get(f"{PREFIX}/sessions?pinned=false", headers=as_alice).json()["items"]
    assert [s["session_id"] for s in others] == [a2]
    assert (
        client.patch(f"{PREFIX}/sessions/{a1}", json={"pinned": 1}, headers=as_alice).status_code
        == 422
    )
    assert (
        client.patch(f"{PREFIX}/sessions/{a1}", json={"pinned": False}, headers=as_bob).status_code
        == 404
    )
