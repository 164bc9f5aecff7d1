"""The API served by a real uvicorn (`python -m pa_core serve-api`) on 127.0.0.1, both backends."""

from __future__ import annotations

import csv
import io
import json

import httpx
import pytest

from support.api_server import serve_api

P = "/api/v1/personal-assistant"
ALICE = ("alice", "alice-secret-1")
BOB = ("bob", "bob-secret-22")


@pytest.fixture
def server(db_url, auth_file, tmp_path):
    """`python -m pa_core serve-api` in a subprocess; yields its base URL; stopped afterwards."""
    env = {
        "PA_AUTH_CONFIG": str(auth_file),
        "PA_LLM_PROVIDER": "offline",
    }
    with serve_api(db_url, tmp_path / "uvicorn.log", **env) as base:
        yield base


def test_real_server_end_to_end(server, svc):
    with httpx.Client(base_url=server, timeout=30) as http:
        assert http.get(f"{P}/health").json() == {"status": "ok", "database": "reachable"}
        r = http.get(f"{P}/sessions")
        assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Basic")
        assert http.get(f"{P}/sessions", auth=("alice", "nope")).status_code == 401

        r = http.post(f"{P}/sessions/new", json={"title": "over uvicorn"}, auth=ALICE)
        assert r.status_code == 200
        sid = r.json()["session_id"]
        r = http.post(
            f"{P}/chat", json={"message": "What is 12 * 7?", "session_id": sid}, auth=ALICE
        )
        assert r.status_code == 200 and "84" in r.json()["content"]

        # streaming over a real socket: events arrive as server-sent events
        events = []
        with http.stream(
            "POST",
            f"{P}/chat?stream=true",
            json={"message": "2 + 3?", "session_id": sid},
            auth=ALICE,
        ) as s:
            assert s.headers["content-type"].startswith("text/event-stream")
            event = None
            for line in s.iter_lines():
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    events.append((event, json.loads(line[6:])))
        assert events[0] == ("session", {"session_id": sid})
        assert events[-1][0] == "done" and "5" in events[-1][1]["content"]

        page = http.get(f"{P}/sessions/{sid}/messages", auth=ALICE).json()
        assert [m["role"] for m in page["items"]] == ["user", "assistant"] * 2
        assert http.get(f"{P}/sessions/{sid}/messages", auth=BOB).status_code == 404
        r = http.get(f"{P}/sessions/{sid}/export.csv", auth=ALICE)
        assert r.status_code == 200
        assert len(list(csv.DictReader(io.StringIO(r.text.lstrip("\ufeff"))))) == 4
        r = http.patch(f"{P}/sessions/{sid}", json={"title": "renamed"}, auth=ALICE)
        assert r.json()["title"] == "renamed"
        assert http.get("/openapi.json").json()["info"]["title"] == "Personal Assistant API"
        assert http.delete(f"{P}/sessions/{sid}", auth=ALICE).status_code == 204

    # the server wrote to the same database the test reads
    assert svc.get_user("alice").email == "alice@example.com"
    assert svc.get_session(sid, user=svc.get_user("alice")) is None


def test_real_server_concurrent_clients(server, svc):
    """Two users chatting at once from several threads: no 5xx, nothing lost, nothing mixed."""
    from concurrent.futures import ThreadPoolExecutor

    def worker(i: int) -> list[int]:
        who = ALICE if i % 2 == 0 else BOB
        codes = []
        with httpx.Client(base_url=server, timeout=60, auth=who) as http:
            r0 = http.post(f"{P}/sessions/new", json={"title": f"t{i}"})
            assert r0.status_code == 200, r0.text
            sid = r0.json()["session_id"]
            for n in range(3):
                r = http.post(f"{P}/chat", json={"message": f"{i} + {n}?", "session_id": sid})
                codes.append(r.status_code)
            codes.append(http.get(f"{P}/sessions", params={"limit": 50}).status_code)
        return codes

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(worker, range(6)))
    assert all(code == 200 for codes in results for code in codes), results
    for name, expected in (("alice", {"t0", "t2", "t4"}), ("bob", {"t1", "t3", "t5"})):
        sessions = svc.get_user_sessions(svc.get_user(name))
        assert {s.title for s in sessions} == expected
        assert all(s.message_count == 6 for s in sessions)
