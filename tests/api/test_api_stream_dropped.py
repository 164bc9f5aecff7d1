"""A client that leaves or stalls a streamed reply (a real uvicorn, a real socket): the partial
reply is stored when the client goes away or is cut off, marked interrupted, not when the garbage
collector runs."""

from __future__ import annotations

import time

import httpx
import pytest

from support.api_server import serve_api
from support.llm_fake import dripping

P = "/api/v1/personal-assistant"
WORDS = [f"word{n}" for n in range(200)]


@pytest.fixture
def api(db_url, auth_file, tmp_path, llm):
    """`python -m pa_core serve-api` talking to the fake model server."""
    env = {
        "PA_AUTH_CONFIG": str(auth_file),
        "PA_LLM_PROVIDER": "openai",
        "PA_LLM_BASE_URL": llm.url,
        "PA_LLM_API_KEY": "test-key",
        "PA_LLM_MODEL": "test-model",
        "PA_STREAM_TIMEOUT_S": "3",
    }
    with serve_api(db_url, tmp_path / "uvicorn.log", **env) as base:
        yield base


def wait_for_messages(svc, sid, user, n: int) -> list:
    """The session's messages once there are `n` (a guard deadline, not a timing assertion)."""
    deadline = time.monotonic() + 60
    while True:
        messages = svc.get_messages(sid, user=user)
        if len(messages) >= n or time.monotonic() > deadline:
            return messages
        time.sleep(0.1)


def test_a_dropped_client_gets_its_partial_reply_stored_at_once(api, llm, svc):
    llm.push(dripping(WORDS, pause=0.2))  # 40 s if nobody left early
    alice = svc.ensure_user("alice")
    sid = svc.create_session(user=alice).session_id
    body = {"message": "Tell me everything", "session_id": sid}
    with (
        httpx.Client(base_url=api, timeout=30, auth=("alice", "alice-secret-1")) as http,
        http.stream("POST", f"{P}/chat?stream=true", json=body) as response,
    ):
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("event: delta"):
                break  # one delta seen: the client goes away mid-reply
    stored = wait_for_messages(svc, sid, alice, 2)
    assert [m.role for m in stored] == ["user", "assistant"]
    partial = stored[1]
    assert partial.message_metadata["interrupted"] is True and partial.has_error is False
    assert partial.content.startswith("word0 ")
    assert len(partial.content.split()) < len(WORDS)  # stored before the model finished


def test_a_stalled_reader_of_the_chat_stream_is_cut_and_its_partial_reply_stored(
    api, llm, svc, tmp_path
):
    import base64
    import json
    import socket

    big = [f"w{n:05d}" + "x" * 2000 for n in range(4000)]  # ~8 MB of events: fills any buffer
    llm.push(dripping(big, pause=0.001))
    alice = svc.ensure_user("alice")
    sid = svc.create_session(user=alice).session_id
    body = json.dumps({"message": "Say a lot", "session_id": sid}).encode()
    host, port = api.removeprefix("http://").split(":")
    token = base64.b64encode(b"alice:alice-secret-1").decode()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    try:
        sock.sendall(
            f"POST {P}/chat?stream=true HTTP/1.1\r\nHost: {host}\r\n"
            f"Authorization: Basic {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        assert sock.recv(1024).startswith(b"HTTP/1.1 200")  # then it reads nothing more
        stored = wait_for_messages(svc, sid, alice, 2)  # stored once the stream is cut
    finally:
        sock.close()
    assert [m.role for m in stored] == ["user", "assistant"]
    partial = stored[1]
    assert partial.message_metadata["interrupted"] is True and partial.has_error is False
    assert partial.content.startswith("w00000") and len(partial.content.split()) < len(big)
    assert "its stream was cut" in (tmp_path / "uvicorn.log").read_text()
