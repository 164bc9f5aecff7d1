"""Assistant turn latency and its overhead over the raw service calls (docs/ASSISTANT.md).

    python bench/agent_latency.py [--turns 300] [--pg-url postgresql+psycopg2://...]

For each backend it times, per turn (median / p95, ms) and counts SQL statements:
  raw service   get_or_create_session + add_message(user) + add_message(assistant): the database
                work a turn needs, called directly
  agent chat    PersonalAssistant.chat() with the offline provider (calculator tool)
  agent stream  PersonalAssistant.stream() consumed to the end
  first turn    chat() with session_id=None: new session, reply, title
  openai chat   PersonalAssistant.chat() through the real openai SDK to a local fake server
  raw SDK       the same SDK call plus the same service calls, without the assistant
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "agent")]

import pa_core  # noqa: E402
from pa_core.agent import ContextCache, PersonalAssistant  # noqa: E402
from pa_core.config import Settings  # noqa: E402
from pa_core.db import create_db_engine  # noqa: E402


class Counter:
    def __init__(self, engine):
        self.n = 0
        event.listen(engine, "before_cursor_execute", self._hit)

    def _hit(self, *_a):
        self.n += 1


def measure(fn: Callable[[int], object], turns: int, counter: Counter, warmup: int = 20):
    for i in range(warmup):
        fn(-1 - i)
    samples = []
    before = counter.n
    for i in range(turns):
        t0 = time.perf_counter()
        fn(i)
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return (
        statistics.median(samples),
        samples[min(len(samples) - 1, int(0.95 * len(samples)))],
        (counter.n - before) / turns,
    )


def bench_backend(name: str, url: str, turns: int) -> list[tuple]:
    engine = create_db_engine(url)
    counter = Counter(engine)
    svc = pa_core.ConversationService(engine)
    user = svc.ensure_user(f"bench-{uuid.uuid4().hex[:6]}")
    offline = Settings(PA_LLM_PROVIDER="offline")
    rows = []

    sid = svc.create_session(user=user).session_id

    def raw_turn(i):
        svc.get_or_create_session(sid, user=user)
        svc.add_message(sid, user=user, role="user", content=f"What is {i} * 7?")
        svc.add_message(
            sid,
            user=user,
            role="assistant",
            content=f"{i} * 7 = **{i * 7}**",
            tools_used=["calculator"],
            processing_time_ms=1,
            token_count=10,
            metadata={"model": "offline-tools-1", "provider": "offline", "client_id": "x"},
        )

    rows.append((name, "raw service calls (3)", *measure(raw_turn, turns, counter)))

    assistant = PersonalAssistant(svc, user, settings=offline, cache=ContextCache())
    sid2 = assistant.chat("What is 1 + 1?").session_id
    rows.append(
        (
            name,
            "agent chat (offline)",
            *measure(
                lambda i: assistant.chat(f"What is {i} * 7?", session_id=sid2), turns, counter
            ),
        )
    )
    rows.append(
        (
            name,
            "agent stream (offline)",
            *measure(
                lambda i: list(assistant.stream(f"What is {i} * 8?", session_id=sid2)),
                turns,
                counter,
            ),
        )
    )
    cold = PersonalAssistant(svc, user, settings=offline, cache=ContextCache(max_sessions=1))
    other = cold.chat("What is 2 + 2?").session_id

    def cold_turn(i):  # two sessions alternate through a 1-entry cache: history from the DB
        cold.chat(f"What is {i} * 9?", session_id=sid2 if i % 2 else other)

    rows.append((name, "agent chat, cache miss", *measure(cold_turn, turns, counter)))
    rows.append(
        (
            name,
            "first turn (new session + title)",
            *measure(lambda i: assistant.chat(f"What is {i} + 1?"), max(50, turns // 3), counter),
        )
    )

    try:
        from llm_fake import FakeLLM, reply  # the tests' OpenAI-compatible server
    except ImportError:
        FakeLLM = None
    if FakeLLM is not None:
        import openai

        fake = FakeLLM().start()
        try:
            fake.title = reply("Bench title")
            settings = Settings(
                PA_LLM_PROVIDER="openai",
                PA_LLM_BASE_URL=fake.url,
                PA_LLM_API_KEY="k",
                PA_LLM_MODEL="m",
            )
            llm = PersonalAssistant(svc, user, settings=settings, cache=ContextCache())
            sid3 = llm.chat("hello").session_id
            rows.append(
                (
                    name,
                    "agent chat (openai SDK, local server)",
                    *measure(lambda i: llm.chat(f"turn {i}", session_id=sid3), turns, counter),
                )
            )
            client = openai.OpenAI(api_key="k", base_url=fake.url)
            sid4 = svc.create_session(user=user).session_id

            def raw_sdk(i):
                svc.get_or_create_session(sid4, user=user)
                svc.add_message(sid4, user=user, role="user", content=f"turn {i}")
                history = svc.get_messages(sid4, user=user, limit=40)
                r = client.chat.completions.create(
                    model="m", messages=[{"role": m.role, "content": m.content} for m in history]
                )
                svc.add_message(
                    sid4, user=user, role="assistant", content=r.choices[0].message.content
                )

            rows.append((name, "raw SDK call + service calls", *measure(raw_sdk, turns, counter)))
        finally:
            fake.stop()
    engine.dispose()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=300)
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("TEST_DATABASE_URL"),
        help="admin URL of a PostgreSQL server (a throwaway database is created on it)",
    )
    args = parser.parse_args()
    results = []
    tmp = Path(tempfile.mkdtemp(prefix="pa-agent-bench-"))
    try:
        url = f"sqlite:///{tmp / 'bench.db'}"
        pa_core.migrate(url)
        results += bench_backend("sqlite", url, args.turns)
        if args.pg_url:
            admin = create_engine(
                pa_core.config.normalize_url(args.pg_url), isolation_level="AUTOCOMMIT"
            )
            name = f"pa_agent_bench_{uuid.uuid4().hex[:8]}"
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                pg = make_url(admin.url).set(database=name).render_as_string(hide_password=False)
                pa_core.migrate(pg)
                results += bench_backend("postgresql", pg, args.turns)
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"| backend | operation (n={args.turns}) | median ms | p95 ms | SQL statements / turn |")
    print("|---|---|---:|---:|---:|")
    for backend, op, median, p95, stmts in results:
        print(f"| {backend} | {op} | {median:.2f} | {p95:.2f} | {stmts:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
