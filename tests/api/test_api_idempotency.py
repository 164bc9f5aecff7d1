"""POST /chat with an Idempotency-Key: a retry stores nothing twice and answers the same reply."""

from __future__ import annotations

import json

from pa_core.api.idempotency import client_id_for, session_for

P = "/api/v1/personal-assistant"


def events(text: str) -> list[tuple[str, dict]]:
    out = []
    for block in text.strip().split("\n\n"):
        lines = block.splitlines()
        event = lines[0][len("event: ") :]
        out.append((event, json.loads(lines[1][len("data: ") :])))
    return out


def test_a_retry_with_the_same_key_stores_nothing_twice(client, svc, as_alice):
    headers = {**as_alice, "Idempotency-Key": "order-42"}
    first = client.post(f"{P}/chat", json={"message": "What is 12 * 7?"}, headers=headers)
    again = client.post(f"{P}/chat", json={"message": "What is 12 * 7?"}, headers=headers)
    assert first.status_code == again.status_code == 200
    a, b = first.json(), again.json()
    assert "84" in a["content"]
    assert b["session_id"] == a["session_id"] and b["message_id"] == a["message_id"]
    assert b["content"] == a["content"] and b["tools_used"] == a["tools_used"] == ["calculator"]
    alice = svc.get_user("alice")
    stored = svc.get_messages(a["session_id"], user=alice)
    assert [m.role for m in stored] == ["user", "assistant"]
    assert [s.session_id for s in svc.get_user_sessions(alice)] == [a["session_id"]]
    # A new key is a new turn in the same session.
    other = {**as_alice, "Idempotency-Key": "order-43"}
    body = {"message": "What is 1 + 1?", "session_id": a["session_id"]}
    assert client.post(f"{P}/chat", json=body, headers=other).status_code == 200
    assert client.post(f"{P}/chat", json=body, headers=other).status_code == 200
    assert len(svc.get_messages(a["session_id"], user=alice)) == 4


def test_a_streamed_retry_replays_the_stored_reply(client, svc, as_alice):
    headers = {**as_alice, "Idempotency-Key": "stream-1"}
    first = client.post(
        f"{P}/chat?stream=true", json={"message": "What is 2 + 2?"}, headers=headers
    )
    again = client.post(
        f"{P}/chat?stream=true", json={"message": "What is 2 + 2?"}, headers=headers
    )
    done_first, done_again = events(first.text)[-1], events(again.text)[-1]
    assert done_first[0] == done_again[0] == "done"
    assert done_again[1]["message_id"] == done_first[1]["message_id"]
    assert [e for e, _ in events(again.text)] == ["session", "delta", "done"]
    delta = "".join(d["text"] for e, d in events(again.text) if e == "delta")
    assert delta == done_first[1]["content"]
    sid = done_first[1]["session_id"]
    assert len(svc.get_messages(sid, user=svc.get_user("alice"))) == 2


def test_the_same_key_of_another_user_is_their_own(client, svc, as_alice, as_bob):
    key = {"Idempotency-Key": "shared-key"}
    a = client.post(f"{P}/chat", json={"message": "alice's"}, headers={**as_alice, **key}).json()
    b = client.post(f"{P}/chat", json={"message": "bob's"}, headers={**as_bob, **key}).json()
    assert a["session_id"] != b["session_id"] and a["message_id"] != b["message_id"]
    bob = svc.get_user("bob")
    assert [m.content for m in svc.get_messages(b["session_id"], user=bob)][0] == "bob's"


def test_a_retry_after_the_reply_was_lost_stores_the_user_message_once(client, svc, as_alice):
    """The first request stored the user message and died before the reply."""
    alice = svc.get_user("alice") or svc.ensure_user("alice")
    cid = client_id_for("crashed-1")
    sid = session_for(svc, alice, cid)
    svc.add_message(sid, user=alice, content="What is 3 + 3?", client_id=cid)
    headers = {**as_alice, "Idempotency-Key": "crashed-1"}
    r = client.post(f"{P}/chat", json={"message": "What is 3 + 3?"}, headers=headers)
    assert r.status_code == 200 and r.json()["session_id"] == sid
    stored = svc.get_messages(sid, user=alice)
    assert [(m.role, m.client_id == cid) for m in stored] == [("user", True), ("assistant", False)]
    assert "6" in stored[1].content


def test_a_bad_key_is_a_readable_422(client, as_alice):
    headers = {**as_alice, "Idempotency-Key": "x" * 256}
    r = client.post(f"{P}/chat", json={"message": "hi"}, headers=headers)
    assert r.status_code == 422 and "Idempotency-Key" in r.text
