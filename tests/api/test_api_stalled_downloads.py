"""Stalled and abandoned downloads through a real uvicorn and raw sockets (both backends): a
client that stops reading is cut after PA_STREAM_TIMEOUT_S, its export's transaction ends (no
backend left idle in transaction or in COPY), /health keeps answering, and one user holds at
most PA_EXPORT_STREAMS_PER_USER export streams."""

from __future__ import annotations

import base64
import socket
import time
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from pa_core.models import ConversationMessage
from support.api_server import serve_api

P = "/api/v1/personal-assistant"
USERS = {f"user{n}": f"user{n}-password" for n in range(3)}
TIMEOUT_S = 3
# ~6 MB of CSV per user: more than the kernel's socket buffers (4 MB here) hold
ROWS_PER_USER = 1500
CUT = "its stream was cut"


@pytest.fixture
def start_api(db_url, svc, make_auth_file, tmp_path):
    """`start_api(**env)`: an API with a short send timeout over three users with a few MB of
    messages each; yields (base URL, log path)."""
    import contextlib

    auth = make_auth_file(tmp_path / "auth.yaml", USERS)
    for name in USERS:
        user = svc.ensure_user(name)
        sid = svc.create_session(user=user, title=f"{name}'s notes").session_id
        row = {"session_id": sid, "user_id": user.id, "role": "user", "has_error": False}
        now = datetime.now(UTC)
        rows = [
            {**row, "content": f"{n} " + "x" * 4000, "tools_used": [], "created_at": now}
            for n in range(ROWS_PER_USER)
        ]
        with svc.transaction(write=True, user_id=user.id) as conn:
            conn.execute(insert(ConversationMessage.__table__), rows)
    log = tmp_path / "uvicorn.log"
    with contextlib.ExitStack() as stack:

        def start(**env: str) -> tuple[str, object]:
            env = {"PA_AUTH_CONFIG": str(auth), "PA_STREAM_TIMEOUT_S": str(TIMEOUT_S), **env}
            return stack.enter_context(serve_api(db_url, log, **env)), log

        yield start


def stalled_download(base: str, path: str, user: str) -> socket.socket:
    """A raw socket that asks for `path`, reads the first 1 KB, then reads nothing more."""
    host, port = base.removeprefix("http://").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window: stalls fast
    sock.connect((host, int(port)))
    token = base64.b64encode(f"{user}:{USERS[user]}".encode()).decode()
    request = f"GET {P}{path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Basic {token}\r\n\r\n"
    sock.sendall(request.encode())
    head = b""
    while len(head) < 1024:
        chunk = sock.recv(1024 - len(head))
        assert chunk, head
        head += chunk
    assert head.startswith(b"HTTP/1.1 200"), head[:200]
    return sock


def wait_until(condition, what: str, guard_s: float = 60):
    """Poll `condition()` until true (a guard deadline against hanging, not a timing check)."""
    deadline = time.monotonic() + guard_s
    while not (value := condition()):
        assert time.monotonic() < deadline, what
        time.sleep(0.2)
    return value


def our_stuck_backends(db_url: str) -> list[tuple]:
    """Backends of the app on this database idle in a transaction or running a COPY."""
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return conn.execute(
                text(
                    "SELECT pid, state, left(query, 40) FROM pg_stat_activity "
                    "WHERE datname = :db AND application_name = 'personal-assistant' "
                    "AND (state LIKE 'idle in transaction%' "
                    "     OR (state = 'active' AND query ILIKE 'COPY%'))"
                ),
                {"db": make_url(db_url).database},
            ).all()
    finally:
        engine.dispose()


def test_twenty_stalled_downloads_release_everything(start_api, db_url):
    base, log = start_api(PA_EXPORT_STREAMS_PER_USER="10")
    names = list(USERS)
    socks = [
        stalled_download(base, "/export.csv" if n % 2 == 0 else "/export.json", names[n % 2])
        for n in range(20)
    ]
    try:
        health = httpx.get(f"{base}{P}/health", timeout=TIMEOUT_S + 10)
        assert health.status_code == 200, health.text
        wait_until(lambda: log.read_text().count(CUT) >= 20, "the stalled streams were not cut")
        print(f"\n20 stalled downloads cut after {TIMEOUT_S} s each; /health 200")
        if db_url.startswith("postgresql"):
            # closing happens right after the cut is logged; give it the guard to finish
            wait_until(lambda: not our_stuck_backends(db_url) or None, "backends left stuck")
            assert our_stuck_backends(db_url) == []
        # every user can download again, in full
        for name in names:
            r = httpx.get(f"{base}{P}/export.csv", auth=(name, USERS[name]), timeout=60)
            assert r.status_code == 200 and r.text.count("\r\n") > ROWS_PER_USER
    finally:
        for sock in socks:
            sock.close()


def test_a_client_that_leaves_mid_download_releases_its_connection(start_api, db_url):
    base, log = start_api()
    for n in range(8):
        stalled_download(base, "/export.csv", "user0" if n % 2 else "user1").close()
    if db_url.startswith("postgresql"):
        wait_until(lambda: not our_stuck_backends(db_url) or None, "backends left stuck")
    r = httpx.get(f"{base}{P}/export.json", auth=("user0", USERS["user0"]), timeout=60)
    assert r.status_code == 200 and r.json()["sessions"]


def test_one_user_holds_at_most_three_export_streams(start_api):
    base, log = start_api()  # the default: 3 per user
    paths = ("/export.csv", "/export.json", "/export.csv")
    socks = [stalled_download(base, path, "user2") for path in paths]
    try:
        extra = httpx.get(f"{base}{P}/export.csv", auth=("user2", USERS["user2"]), timeout=30)
        assert extra.status_code == 429
        assert "exports downloading" in extra.json()["detail"]
        assert int(extra.headers["Retry-After"]) >= 1
        # other users are not limited by user2's streams
        other = httpx.get(f"{base}{P}/export.csv", auth=("user1", USERS["user1"]), timeout=60)
        assert other.status_code == 200
        # once the stalled streams are cut, user2 can download again
        wait_until(lambda: log.read_text().count(CUT) >= 3, "the stalled streams were not cut")
        again = httpx.get(f"{base}{P}/export.csv", auth=("user2", USERS["user2"]), timeout=60)
        assert again.status_code == 200
    finally:
        for sock in socks:
            sock.close()
