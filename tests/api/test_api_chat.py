"""POST /chat (JSON and server-sent events) with the real offline assistant, both backends."""

from __future__ import annotations

import json
import uuid

from support.llm_fake import reply

P = "/api/v1/personal-assistant"


def parse_sse(text: str) -> list[tuple[str, dict]]:
    """(event, data) pairs of a text/event-stream body."""
    events = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        event, data = "message", []
        for line in block.splitlines():
            if line.startswith("event: "):
                event = line[len("event: ") :]
            elif line.startswith("data: "):
                data.append(line[len("data: ") :])
        events.append((event, json.loads("\n".join(data))))
    return events


def test_chat_starts_a_session_and_stores_both_messages(client, svc, as_alice):
    r = client.post(f"{P}/chat", json={"message": "What is 12 * 7?"}, headers=as_alice)
    assert r.status_code == 200, r.text
    reply = r.json()
    assert "84" in reply["content"]
    assert reply["tools_used"] == ["calculator"]
    assert reply["has_error"] is False and reply["error_message"] is None
    assert isinstance(reply["processing_time_ms"], int)
    sid = reply["session_id"]
    alice = svc.get_user("alice")
    stored = svc.get_messages(sid, user=alice)
    assert [m.role for m in stored] == ["user", "assistant"]
    assert stored[0].content == "What is 12 * 7?"
    assert stored[1].id == reply["message_id"] and stored[1].tools_used == ["calculator"]
    # continuing the same session over the API sees the history
    r = client.post(
        f"{P}/chat", json={"message": "And 6 + 4?", "session_id": sid}, headers=as_alice
    )
    assert r.status_code == 200 and r.json()["session_id"] == sid
    assert "10" in r.json()["content"]
    msgs = client.get(f"{P}/sessions/{sid}/messages", headers=as_alice).json()["items"]
    assert len(msgs) == 4 and msgs[-1]["role"] == "assistant"


def test_chat_in_someone_elses_or_missing_session_is_404(client, svc, as_alice, as_bob):
    sid = client.post(f"{P}/chat", json={"message": "hello"}, headers=as_alice).json()["session_id"]
    for target in (sid, str(uuid.uuid4()), "nope"):
        r = client.post(
            f"{P}/chat", json={"message": "let me in", "session_id": target}, headers=as_bob
        )
        assert r.status_code == 404, target
        r = client.post(
            f"{P}/chat?stream=true",
            json={"message": "let me in", "session_id": target},
            headers=as_bob,
        )
        assert r.status_code == 404, target
    assert svc.get_session(sid, user=svc.get_user("alice")).message_count == 2
    assert client.get(f"{P}/sessions", headers=as_bob).json()["items"] == []


def test_chat_stream_sends_session_deltas_and_done(client, svc, as_alice):
    with client.stream(
        "POST",
        f"{P}/chat",
        params={"stream": "true"},
        json={"message": "What is 12 * 7?"},
        headers=as_alice,
    ) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        body = "".join(r.iter_text())
    events = parse_sse(body)
    kinds = [e for e, _ in events]
    assert kinds[0] == "session" and kinds[-1] == "done"
    assert kinds.count("delta") >= 1 and set(kinds[1:-1]) == {"delta"}
    sid = events[0][1]["session_id"]
    text = "".join(d["text"] for e, d in events if e == "delta")
    done = events[-1][1]
    assert done["session_id"] == sid and done["content"] == text and "84" in text
    assert done["tools_used"] == ["calculator"] and done["has_error"] is False
    stored = svc.get_messages(sid, user=svc.get_user("alice"))
    assert [m.role for m in stored] == ["user", "assistant"]
    assert stored[1].content == text and stored[1].id == done["message_id"]


def test_chat_stream_continues_an_existing_session(client, as_alice):
    sid = client.post(f"{P}/sessions/new", headers=as_alice).json()["session_id"]
    r = client.post(
        f"{P}/chat?stream=true", json={"message": "hi there", "session_id": sid}, headers=as_alice
    )
    events = parse_sse(r.text)
    assert events[0] == ("session", {"session_id": sid})
    assert events[-1][0] == "done" and events[-1][1]["session_id"] == sid
    assert client.get(f"{P}/sessions/{sid}", headers=as_alice).json()["message_count"] == 2


def test_chat_answers_through_the_model_of_the_apps_settings(svc, auth_file, llm, as_alice):
    """The Settings given to create_app choose the model (the environment says offline)."""
    from fastapi.testclient import TestClient

    from pa_core import Settings
    from pa_core.api import create_app

    llm.push(reply("Hello from the configured model.", usage=(21, 6)))
    settings = Settings(PA_LLM_PROVIDER="openai", PA_LLM_BASE_URL=llm.url, PA_LLM_API_KEY="k")
    with TestClient(create_app(svc, settings, auth_config=auth_file)) as c:
        r = c.post(f"{P}/chat", json={"message": "Hello?"}, headers=as_alice)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["content"] == "Hello from the configured model."
    assert body["has_error"] is False and body["token_count"] == 27
    assert [m["content"] for m in llm.requests[0]["messages"]][-1] == "Hello?"
    assert llm.headers[0]["authorization"] == "Bearer k"
    stored = svc.get_messages(body["session_id"], user=svc.get_user("alice"))
    assert [m.content for m in stored] == ["Hello?", "Hello from the configured model."]
