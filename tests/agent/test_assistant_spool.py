"""The durable spool: messages the database did not take survive the process, and any later
flush (a new process, the CLI, several at once) writes each of them exactly once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pa_core.agent import ContextCache, Outbox, PersonalAssistant
from pa_core.agent.spool import UserSpool
from pa_core.config import Settings
from support.threads import run_together

ROOT = Path(__file__).resolve().parents[2]

# A process that chats while the database is down, reports, then waits to be killed.
CHILD = r"""
import json, sys, time
from sqlalchemy import event
import pa_core
from pa_core.config import Settings
from pa_core.db import create_db_engine

engine = create_db_engine(sys.argv[1])
if engine.dialect.name == "sqlite":
    @event.listens_for(engine, "connect")
    def _short_busy_timeout(dbapi_conn, _record):
        dbapi_conn.execute("PRAGMA busy_timeout=200")
svc = pa_core.ConversationService(engine)
user = svc.ensure_user("alice")
print("ready", flush=True)
sys.stdin.readline()  # the database is down now
assistant = pa_core.PersonalAssistant(svc, user, settings=Settings(PA_LLM_PROVIDER="offline"))
reply = assistant.chat("What is 2 + 3?")
print(json.dumps({"sid": reply.session_id, "saved": reply.saved,
                  "pending": assistant.pending_count, "content": reply.content}), flush=True)
time.sleep(600)
"""


def offline(svc, user, spool_dir) -> PersonalAssistant:
    """An assistant with its own Outbox object, i.e. as a separate process would have."""
    settings = Settings(PA_LLM_PROVIDER="offline")
    clock = lambda: datetime(2026, 1, 1, tzinfo=UTC)  # noqa: E731
    return PersonalAssistant(
        svc, user, settings=settings, cache=ContextCache(), clock=clock, outbox=Outbox(spool_dir)
    )


def contents(svc, user, sid):
    return [(m.role, m.content) for m in svc.get_messages(sid, user=user)]


def db_url(svc) -> str:
    return svc.engine.url.render_as_string(hide_password=False)


def run_cli(url: str, spool_dir: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "pa_core", "--database-url", url, "spool", "flush",
         "--spool-dir", str(spool_dir)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return done.stdout.strip()


def test_killed_process_leaves_its_messages_and_the_cli_writes_them_once(outage, tmp_path):
    svc, switch = outage
    spool_dir = tmp_path / "spool"
    env = {**os.environ, "PA_SPOOL_DIR": str(spool_dir), "PA_LLM_PROVIDER": "offline"}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, db_url(svc)],
        cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert child.stdout.readline().strip() == "ready"
        with switch.down():
            child.stdin.write("go\n")
            child.stdin.flush()
            report = json.loads(child.stdout.readline())
            child.send_signal(signal.SIGKILL)  # nothing runs after this: no atexit, no finally
            child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert report["saved"] is False and report["pending"] == 2
    assert "5" in report["content"]
    alice = svc.ensure_user("alice")
    assert svc.get_user_sessions(alice) == []
    assert run_cli(db_url(svc), spool_dir) == "wrote 2 spooled message(s)"
    assert run_cli(db_url(svc), spool_dir) == "wrote 0 spooled message(s)"
    # The session made up while the database was down keeps its id (the URL the user has).
    assert contents(svc, alice, report["sid"]) == [
        ("user", "What is 2 + 3?"),
        ("assistant", "2 + 3 = **5**"),
    ]
    assert svc.get_session(report["sid"], user=alice).title == "What is 2 + 3?"


def test_a_new_process_after_a_crash_mid_flush_writes_each_message_once(
    outage, tmp_path, monkeypatch
):
    svc, switch = outage
    alice = svc.ensure_user("alice")
    spool_dir = tmp_path / "spool"
    first = offline(svc, alice, spool_dir)
    sid = first.chat("What is 1 + 1?").session_id
    with switch.down():
        first.chat("What is 2 + 2?", session_id=sid)
        first.chat("What is 3 + 3?", session_id=sid)
    assert first.pending_count == 4
    real_remove = UserSpool.remove

    def crash_after_the_write(self, path):
        monkeypatch.setattr(UserSpool, "remove", real_remove)
        raise RuntimeError("the process died here")  # written, but still in the spool

    monkeypatch.setattr(UserSpool, "remove", crash_after_the_write)
    with pytest.raises(RuntimeError):
        first.flush_pending()
    assert first.pending_count == 4 and len(svc.get_messages(sid, user=alice)) == 3
    later = offline(svc, alice, spool_dir)
    assert later.flush_pending() == 4
    assert later.flush_pending() == 0 and later.pending_count == 0
    assert [c for _, c in contents(svc, alice, sid)] == [
        "What is 1 + 1?", "1 + 1 = **2**",
        "What is 2 + 2?", "2 + 2 = **4**",
        "What is 3 + 3?", "3 + 3 = **6**",
    ]  # fmt: skip
    assert svc.get_session(sid, user=alice).message_count == 6


def test_several_flushers_at_once_write_each_message_once(outage, tmp_path):
    svc, switch = outage
    alice = svc.ensure_user("alice")
    spool_dir = tmp_path / "spool"
    writer = offline(svc, alice, spool_dir)
    sid = writer.chat("What is 1 + 1?").session_id
    with switch.down():
        for n in range(2, 6):
            writer.chat(f"What is {n} + {n}?", session_id=sid)
    assert writer.pending_count == 8
    flushers = [offline(svc, alice, spool_dir) for _ in range(4)]
    counts = []
    errors = run_together(lambda assistant: counts.append(assistant.flush_pending()), flushers)
    assert errors == [] and sum(counts) == 8
    stored = svc.get_messages(sid, user=alice)
    assert len(stored) == 10 and len({m.client_id for m in stored[2:]}) == 8
    assert [m.content for m in stored if m.role == "user"] == [
        f"What is {n} + {n}?" for n in range(1, 6)
    ]


def test_spool_entries_are_files_on_disk_until_written(outage, tmp_path):
    svc, switch = outage
    alice = svc.ensure_user("alice")
    spool_dir = tmp_path / "spool"
    assistant = offline(svc, alice, spool_dir)
    with switch.down():
        reply = assistant.chat("What is 6 * 7?")
    files = sorted(p.name for p in spool_dir.rglob("*.json"))
    assert len(files) == 3  # the two messages and the waiting title
    assert [name.split(".")[2] for name in files] == ["new", "new", "title"]
    kept = [json.loads(p.read_text()) for p in sorted(spool_dir.rglob("*.json"))]
    assert [k.get("role") for k in kept] == ["user", "assistant", None]
    assert all(k["session_id"] == reply.session_id for k in kept)
    assert all(len(k["client_id"]) == 36 for k in kept[:2])
    assert not list(spool_dir.rglob(".tmp-*"))
    assert assistant.chat("What is 1 + 1?", session_id=reply.session_id).saved is True
    assert list(spool_dir.rglob("*.json")) == []
