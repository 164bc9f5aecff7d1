"""GET /sessions/{session_id}/messages on both backends."""

from __future__ import annotations

P = "/api/v1/personal-assistant"


def test_messages_paged_oldest_first(client, new_session, svc, as_alice):
    sid = new_session(as_alice)
    alice = svc.get_user("alice")
    ids = [
        svc.add_message(
            sid, user=alice, role="user" if i % 2 == 0 else "assistant", content=f"m{i}"
        ).id
        for i in range(5)
    ]
    r = client.get(f"{P}/sessions/{sid}/messages", headers=as_alice)
    assert r.status_code == 200
    page = r.json()
    assert [m["id"] for m in page["items"]] == ids and page["next_before_id"] is None
    r = client.get(f"{P}/sessions/{sid}/messages", params={"limit": 2}, headers=as_alice)
    page = r.json()
    assert [m["content"] for m in page["items"]] == ["m3", "m4"]
    assert page["next_before_id"] == ids[3]
    r = client.get(
        f"{P}/sessions/{sid}/messages",
        params={"limit": 2, "before_id": page["next_before_id"]},
        headers=as_alice,
    )
    assert [m["content"] for m in r.json()["items"]] == ["m1", "m2"]
    first = r.json()["items"][0]
    assert first["role"] == "assistant" and first["tools_used"] == []
    r = client.get(f"{P}/sessions/{sid}/messages", params={"limit": 0}, headers=as_alice)
    assert r.status_code == 422
