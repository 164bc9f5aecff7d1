"""The production shape, started on this machine and driven through nginx in a real browser.

PostgreSQL -> PgBouncer (transaction mode) -> 2 Streamlit + 2 API replicas -> nginx, all from the
files in deploy/, on free loopback ports. The tests run in order and share the topology.
"""

from __future__ import annotations

import csv
import io
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import psycopg2
import pytest
from alembic.script import ScriptDirectory
from browser_helpers import PASSWORDS, ROOT, screenshot
from playwright.sync_api import expect
from sqlalchemy.engine import make_url
from topology import fresh_database

import pa_core
from pa_core.db import create_db_engine
from pa_core.migrate import MIGRATION_LOCK_KEY, alembic_config
from support.pg_cluster import admin_exec

pytestmark = [pytest.mark.deploy, pytest.mark.slow]
TIMEOUT_MS = 30_000
CHAT_INPUT = "Message the assistant"
P = "/api/v1/personal-assistant"
ALICE = ("alice", PASSWORDS["alice"])
ARTIFACTS = ROOT / "test-artifacts"
expect.set_options(timeout=TIMEOUT_MS)


def session_id_of(url: str) -> str | None:
    """The session_id query parameter of a URL."""
    values = parse_qs(urlparse(url).query).get("session_id")
    return values[0] if values else None


def wait_idle(page) -> None:
    """Wait until the last script run has finished (no running status, no stale elements)."""
    app = page.get_by_test_id("stApp")
    expect(app).to_have_attribute("data-test-script-state", "notRunning")
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0)
    expect(page.locator("[data-stale='true']")).to_have_count(0)


def send(page, text: str, expected_reply: str) -> None:
    """Type a message, send it, and wait until the stored reply is shown."""
    page.get_by_placeholder(CHAT_INPUT).fill(text)
    page.get_by_placeholder(CHAT_INPUT).press("Enter")
    messages = page.get_by_test_id("stChatMessage")
    expect(messages.filter(has_text=expected_reply).last).to_be_visible()
    expect(messages.last.get_by_test_id("stCaptionContainer")).to_be_visible()
    wait_idle(page)


def serving_replica(topology, context) -> str:
    """host:port of the app replica nginx routes this browser to (from its access log)."""
    route = next(c["value"] for c in context.cookies() if c["name"] == "pa_route")
    lines = [
        line
        for line in topology.access_log()
        if f"route={route} " in line and "/_stcore/stream" not in line and "upstream=-" not in line
    ]
    assert lines, "nginx logged no request of this browser"
    return lines[-1].split("upstream=")[1].split()[0].split(",")[-1].strip()


def stored(url: str, sid: str) -> list[tuple[str, str]]:
    """(role, content) of every stored message of alice's session `sid`, in order."""
    svc = pa_core.ConversationService.from_url(url)
    alice = svc.get_user("alice")
    return [(m.role, m.content) for m in svc.get_messages(sid, user=alice)]


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _note(line: str) -> None:
    """Append a measured figure to test-artifacts/deploy-timings.txt (read, never asserted)."""
    ARTIFACTS.mkdir(exist_ok=True)
    with (ARTIFACTS / "deploy-timings.txt").open("a") as f:
        f.write(line + "\n")


@pytest.fixture(scope="module")
def state():
    """What earlier tests of this module learnt."""
    return {}


def test_two_replicas_migrate_one_fresh_database_at_once(pooler, pg_server_url):
    """Both migrators queue on the advisory lock through PgBouncer; both succeed; head once."""
    name = fresh_database(pg_server_url)
    try:
        server = make_url(pg_server_url)
        direct = psycopg2.connect(
            host=server.host,
            port=server.port,
            user=server.username,
            dbname=name,
            password=server.password,
        )
        try:
            with direct.cursor() as cur:  # hold the lock so that both really wait together
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))
            procs = [_migrator(pooler.pooled_url(name)) for _ in range(2)]
            try:
                _wait_for_waiters(direct, name, 2, procs)
                direct.rollback()  # release: now they run one after the other
                outputs = [p.communicate(timeout=120)[0] for p in procs]
            finally:
                for p in procs:
                    if p.poll() is None:  # only after a failure above
                        p.kill()
                        p.wait(timeout=10)
            assert [p.returncode for p in procs] == [0, 0], outputs
            with direct.cursor() as cur:
                cur.execute("SELECT version_num FROM alembic_version")
                versions = [row[0] for row in cur.fetchall()]
            head = ScriptDirectory.from_config(alembic_config()).get_current_head()
            assert versions == [head]
        finally:
            direct.close()
    finally:
        admin_exec(pg_server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _migrator(url: str) -> subprocess.Popen:
    """`python -m pa_core migrate` on `url` (a replica's start-up migration)."""
    return subprocess.Popen(
        [sys.executable, "-m", "pa_core", "--database-url", url, "migrate"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for_waiters(conn, database: str, count: int, procs) -> None:
    """Wait (bounded) until `count` sessions wait for the migration lock in `database`."""
    deadline = time.monotonic() + 60
    while True:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                "WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = %s",
                (database,),
            )
            waiting = cur.fetchone()[0]
        if waiting >= count:
            return
        failed = [p for p in procs if p.poll() is not None]
        assert not failed, failed[0].communicate()[0]
        assert time.monotonic() < deadline, f"only {waiting} migrators reached the lock"
        time.sleep(0.2)


def test_topology_starts_and_sessions_run_in_utc(deployed):
    topology, base, url, seconds = deployed
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "deploy-timings.txt").write_text("")
    _note(f"migrate + 2 Streamlit + 2 API replicas healthy + nginx: {seconds:.1f} s")
    assert httpx.get(base + P + "/health").json() == {"status": "ok", "database": "reachable"}
    assert httpx.get(base + "/_stcore/health").text == "ok"
    engine = create_db_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW timezone").scalar() == "UTC"
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def alice_page(browser):
    """alice's tab (its context keeps the login and pa_route cookies) and its websockets."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    sockets: list = []
    page.on("websocket", lambda ws: sockets.append(ws))
    yield page, sockets
    context.close()


def test_browser_login_chat_and_refresh_through_nginx(deployed, alice_page, state):
    topology, base, url, _ = deployed
    page, _ = alice_page
    state["sid"] = _login_chat_refresh(page, base, url)
    state["first"] = serving_replica(topology, page.context)
    screenshot(page, "deploy-01-chat-before-failover")


def test_browser_failover_keeps_login_and_conversation(deployed, alice_page, state):
    topology, _, url, _ = deployed
    page, sockets = alice_page
    sid, first = state["sid"], state["first"]
    opened = len(sockets)  # the page's websocket is the last one opened
    victim = next(s for s in topology.apps if f"127.0.0.1:{s.port}" == first)
    victim.proc.send_signal(signal.SIGKILL)
    victim.proc.wait(timeout=10)
    killed = time.monotonic()
    screenshot(page, "deploy-02-right-after-kill")
    # Typed right away: the input takes it as soon as the page has reconnected to the other one.
    send(page, "What is 6 * 7?", "42")
    waited = time.monotonic() - killed
    _note(f"SIGKILL of the serving replica to the next reply shown: {waited:.1f} s")
    expect(page.get_by_role("textbox", name="Username", exact=True)).to_have_count(0)
    expect(page.get_by_test_id("stChatMessage")).to_have_count(6)
    expect(page.get_by_test_id("stChatMessage").filter(has_text="zebra").first).to_be_visible()
    assert session_id_of(page.url) == sid
    assert sockets[opened - 1].is_closed() and len(sockets) > opened
    assert serving_replica(topology, page.context) != first
    screenshot(page, "deploy-03-chat-after-failover")
    assert stored(url, sid)[-2:] == [("user", "What is 6 * 7?"), ("assistant", "6 * 7 = **42**")]

    page.reload()  # a refresh after the failover finds everything too
    expect(page.get_by_test_id("stChatMessage")).to_have_count(6)
    wait_idle(page)
    assert [role for role, _ in stored(url, sid)] == ["user", "assistant"] * 3


def _login_chat_refresh(page, base: str, url: str) -> str:
    """Log in through nginx, chat twice, refresh; returns the session id in the URL."""
    page.goto(base + "/")
    page.get_by_role("textbox", name="Username", exact=True).fill("alice")
    page.get_by_role("textbox", name="Password", exact=True).fill(PASSWORDS["alice"])
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_placeholder(CHAT_INPUT)).to_be_visible()
    send(page, "What is 12 * 7?", "84")
    send(page, "Remember the zebra budget meeting on Friday", "zebra")
    sid = session_id_of(page.url)
    assert sid
    page.reload()
    expect(page.get_by_test_id("stChatMessage")).to_have_count(4)
    wait_idle(page)
    assert session_id_of(page.url) == sid
    expect(page.get_by_role("textbox", name="Username", exact=True)).to_have_count(0)
    assert len(stored(url, sid)) == 4
    return sid


def test_api_turns_alternate_between_replicas_with_full_context(deployed):
    topology, base, url, _ = deployed
    padding = "context-check " * 15
    with httpx.Client(base_url=base, auth=ALICE, timeout=60) as http:
        sid = http.post(f"{P}/sessions/new", json={"title": "through nginx"}).json()["session_id"]
        before = len(topology.access_log())
        sent = []
        for n in range(1, 21):
            message = f"What is {n} + {n}? {padding}{n}"
            r = http.post(f"{P}/chat", json={"message": message, "session_id": sid})
            assert r.status_code == 200, r.text
            assert f"{n} + {n} = **{2 * n}**" in r.json()["content"]
            sent.append(message)
        export = http.get(f"{P}/sessions/{sid}/export.csv")
    chat_lines = [line for line in topology.access_log()[before:] if f"POST {P}/chat" in line]
    upstreams = [line.split("upstream=")[1].split()[0] for line in chat_lines]
    assert len(upstreams) == 20 and len(set(upstreams)) == 2
    assert all(a != b for a, b in zip(upstreams, upstreams[1:], strict=False)), upstreams

    svc = pa_core.ConversationService.from_url(url)
    messages = svc.get_messages(sid, user=svc.get_user("alice"))
    assert [m.content for m in messages if m.role == "user"] == sent  # once each, in order
    assert [m.role for m in messages] == ["user", "assistant"] * 20
    for i, m in enumerate(messages):
        if m.role == "assistant":  # the model was given every earlier message and this one
            assert m.message_metadata["context_messages"] == i, i
    rows = list(csv.DictReader(io.StringIO(export.text.lstrip("\ufeff"))))
    assert [r["message_id"] for r in rows] == [str(m.id) for m in messages]
    assert [r["created_at"] for r in rows] == [m.created_at.isoformat() for m in messages]
    assert all(r["created_at"].endswith("+00:00") for r in rows)


def test_replicas_still_serve_and_their_memory_is_noted(deployed):
    topology, base, _, _ = deployed
    live = [s for s in topology.apps if s.proc.poll() is None]
    assert len(live) == 1 and all(a.proc.poll() is None for a in topology.apis)
    assert httpx.get(base + "/_stcore/health").text == "ok"  # the dead one is skipped
    apis = ", ".join(f"{rss_mb(a.proc.pid):.0f}" for a in topology.apis)
    _note(f"RSS after the tests: app replica {rss_mb(live[0].proc.pid):.0f} MB, API {apis} MB")


def test_screenshots_were_written():
    for name in ("deploy-01-chat-before-failover", "deploy-03-chat-after-failover"):
        path: Path = ROOT / "test-artifacts" / "screenshots" / f"{name}.png"
        assert path.stat().st_size > 10_000, path
