"""Sessions endpoints over HTTP (TestClient) on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
import uuid

import pytest

from pa_core.api import APIError, decode_cursor, encode_cursor

P = "/api/v1/personal-assistant"


def test_new_session_without_body_and_with_title(client, new_session, svc, as_alice):
    r = client.post(f"{P}/sessions/new", headers=as_alice)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) >= {"session_id", "created_at"}
    assert uuid.UUID(body["session_id"])
    sid = new_session(as_alice, "Trip to Lisbon")
    alice = svc.get_user("alice")
    assert alice.display_name == "Alice Tester" and alice.email == "alice@example.com"
    s = svc.get_session(sid, user=alice)
    assert s is not None and s.title == "Trip to Lisbon"


def test_new_session_rejects_bad_titles(client, as_alice):
    r = client.post(f"{P}/sessions/new", json={"title": "x" * 256}, headers=as_alice)
    assert r.status_code == 422
    assert "title" in r.json()["detail"]
    r = client.post(f"{P}/sessions/new", json={"title": 5}, headers=as_alice)
    assert r.status_code == 422
    r = client.post(f"{P}/sessions/new", json={"nope": 1}, headers=as_alice)
    assert r.status_code == 422
    r = client.post(
        f"{P}/sessions/new",
        content=b"{not json",
        headers={**as_alice, "Content-Type": "application/json"},
    )
    assert r.status_code == 422
    assert isinstance(r.json()["detail"], str)
    r = client.post(
        f"{P}/sessions/new",
        content=b'{"title": "\xff"}',  # not UTF-8
        headers={**as_alice, "Content-Type": "application/json"},
    )
    assert r.status_code == 422
    assert "not valid JSON (UTF-8)" in r.json()["detail"]


def test_session_list_newest_first_with_cursor_paging(client, new_session, svc, as_alice):
    sids = [new_session(as_alice, f"s{i}") for i in range(7)]
    alice = svc.get_user("alice")
    svc.add_message(sids[2], user=alice, content="bump")  # now the newest activity
    expected = [sids[2], *[s for s in reversed(sids) if s != sids[2]]]
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        r = client.get(f"{P}/sessions", params=params, headers=as_alice)
        assert r.status_code == 200, r.text
        page = r.json()
        pages += 1
        seen += [s["session_id"] for s in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected
    assert pages == 3
    first = client.get(f"{P}/sessions", headers=as_alice).json()["items"][0]
    assert first["session_id"] == sids[2] and first["message_count"] == 1


def test_session_list_title_filter_and_archived(client, new_session, as_alice):
    a = new_session(as_alice, "Budget 2027")
    new_session(as_alice, "Holiday")
    r = client.get(f"{P}/sessions", params={"q": "budget"}, headers=as_alice)
    assert [s["session_id"] for s in r.json()["items"]] == [a]
    r = client.patch(f"{P}/sessions/{a}", json={"is_active": False}, headers=as_alice)
    assert r.status_code == 200 and r.json()["is_active"] is False
    listed = client.get(f"{P}/sessions", headers=as_alice).json()["items"]
    assert a not in [s["session_id"] for s in listed]
    listed = client.get(
        f"{P}/sessions", params={"include_archived": True}, headers=as_alice
    ).json()["items"]
    assert a in [s["session_id"] for s in listed]


def test_session_list_title_filter_with_a_nul_character(client, new_session, as_alice):
    a = new_session(as_alice, "Plan\x00B")  # stored as "Plan\ufffdB" on both backends
    new_session(as_alice, "Plan C")
    r = client.get(f"{P}/sessions", params={"q": "n\x00b"}, headers=as_alice)
    assert r.status_code == 200, r.text
    assert [s["session_id"] for s in r.json()["items"]] == [a]


def test_bad_cursor_and_limits_are_422(client, as_alice):
    for params in ({"cursor": "garbage!"}, {"cursor": "W10"}, {"limit": 0}, {"limit": 501}):
        r = client.get(f"{P}/sessions", params=params, headers=as_alice)
        assert r.status_code == 422, params
        assert isinstance(r.json()["detail"], str)


def test_rename_and_get_session(client, new_session, as_alice):
    sid = new_session(as_alice)
    r = client.patch(f"{P}/sessions/{sid}", json={"title": "  New   name "}, headers=as_alice)
    assert r.status_code == 200, r.text
    assert r.json()["title"] == "New name"
    assert client.get(f"{P}/sessions/{sid}", headers=as_alice).json()["title"] == "New name"
    for body in ({"title": ""}, {"title": "y" * 256}, {}, {"title": None}):
        r = client.patch(f"{P}/sessions/{sid}", json=body, headers=as_alice)
        assert r.status_code == 422, body


def test_delete_session(client, new_session, svc, as_alice):
    sid = new_session(as_alice)
    svc.add_message(sid, user=svc.get_user("alice"), content="bye")
    r = client.delete(f"{P}/sessions/{sid}", headers=as_alice)
    assert r.status_code == 204 and r.content == b""
    assert client.delete(f"{P}/sessions/{sid}", headers=as_alice).status_code == 404
    assert client.get(f"{P}/sessions/{sid}/messages", headers=as_alice).status_code == 404
    assert svc.count_messages(svc.get_user("alice")) == 0


def test_another_users_session_is_404_like_a_missing_one(
    client, new_session, svc, as_alice, as_bob
):
    sid = new_session(as_alice, "private")
    svc.add_message(sid, user=svc.get_user("alice"), content="secret plans")
    missing = str(uuid.uuid4())
    for target in (sid, missing, "not-a-uuid"):
        calls = [
            client.get(f"{P}/sessions/{target}", headers=as_bob),
            client.get(f"{P}/sessions/{target}/messages", headers=as_bob),
            client.patch(f"{P}/sessions/{target}", json={"title": "mine"}, headers=as_bob),
            client.delete(f"{P}/sessions/{target}", headers=as_bob),
            client.get(f"{P}/sessions/{target}/export.csv", headers=as_bob),
        ]
        for r in calls:
            assert r.status_code == 404, (target, r.request.method, r.request.url)
            assert r.json() == {"detail": "That conversation was not found."}
    assert client.get(f"{P}/sessions", headers=as_bob).json()["items"] == []
    # nothing of alice's changed
    s = svc.get_session(sid, user=svc.get_user("alice"))
    assert s.title == "private" and s.message_count == 1


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
