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

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import pa_core  # noqa: E402
from bench.harness import StatementCounter, percentile  # noqa: E402
from pa_core.agent import ContextCache, PersonalAssistant  # noqa: E402
from pa_core.config import Settings  # noqa: E402
from pa_core.db import create_db_engine  # noqa: E402


def interleaved(
    ops: dict[str, Callable[[int], object]], turns: int, counter: StatementCounter, warmup=20
):
    """Run the operations round-robin (same noise for each); ms samples and statements per op."""
    for i in range(warmup):
        for fn in ops.values():
            fn(-1 - i)
    samples: dict[str, list[float]] = {name: [] for name in ops}
    stmts = dict.fromkeys(ops, 0)
    for i in range(turns):
        for name, fn in ops.items():
            before = counter.count
            t0 = time.perf_counter()
            fn(i)
            samples[name].append((time.perf_counter() - t0) * 1000)
            stmts[name] += counter.count - before
    return samples, {name: n / turns for name, n in stmts.items()}


def bench_backend(name: str, url: str, turns: int) -> list[tuple]:
    engine = create_db_engine(url)
    counter = StatementCounter()
    counter.watch(engine)
    svc = pa_core.ConversationService(engine)
    user = svc.ensure_user(f"bench-{uuid.uuid4().hex[:6]}")
    offline = Settings(PA_LLM_PROVIDER="offline")

    raw_sid = svc.create_session(user=user).session_id

    def raw_turn(i):
        svc.get_or_create_session(raw_sid, user=user)
        svc.add_message(raw_sid, user=user, role="user", content=f"What is {i} * 7?")
        svc.add_message(
            raw_sid,
            user=user,
            role="assistant",
            content=f"{i} * 7 = **{i * 7}**",
            tools_used=["calculator"],
            processing_time_ms=1,
            token_count=10,
            metadata={"model": "offline-tools-1", "provider": "offline", "client_id": "x"},
        )

    warm = PersonalAssistant(svc, user, settings=offline, cache=ContextCache())
    warm_sid = warm.chat("What is 1 + 1?").session_id
    cold = PersonalAssistant(svc, user, settings=offline, cache=ContextCache(max_sessions=1))
    cold_sids = [cold.chat("What is 2 + 2?").session_id, cold.chat("What is 3 + 3?").session_id]
    ops = {
        "raw service calls (3)": raw_turn,
        "agent chat (offline)": lambda i: warm.chat(f"What is {i} * 7?", session_id=warm_sid),
        "agent stream (offline)": lambda i: list(
            warm.stream(f"What is {i} * 8?", session_id=warm_sid)
        ),
        # Two sessions alternating through a one-entry cache: history comes from the database.
        "agent chat, cache miss": lambda i: cold.chat(
            f"What is {i} * 9?", session_id=cold_sids[i % 2]
        ),
        "first turn (new session + title)": lambda i: warm.chat(f"What is {i} + 1?"),
    }
    samples, stmts = interleaved(ops, turns, counter)

    try:
        from support.llm_fake import FakeLLM, reply  # the tests' OpenAI-compatible server
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
            llm_sid = llm.chat("hello").session_id
            client = openai.OpenAI(api_key="k", base_url=fake.url)
            sdk_sid = svc.create_session(user=user).session_id

            def raw_sdk(i):
                svc.get_or_create_session(sdk_sid, user=user)
                svc.add_message(sdk_sid, user=user, role="user", content=f"turn {i}")
                history = svc.get_messages(sdk_sid, user=user, limit=40)
                r = client.chat.completions.create(
                    model="m", messages=[{"role": m.role, "content": m.content} for m in history]
                )
                svc.add_message(
                    sdk_sid, user=user, role="assistant", content=r.choices[0].message.content
                )

            more, more_stmts = interleaved(
                {
                    "agent chat (openai SDK, local server)": lambda i: llm.chat(
                        f"turn {i}", session_id=llm_sid
                    ),
                    "raw SDK call + service calls": raw_sdk,
                },
                turns,
                counter,
            )
            samples.update(more)
            stmts.update(more_stmts)
        finally:
            fake.stop()
    engine.dispose()
    base = samples["raw service calls (3)"]
    rows = []
    for op, values in samples.items():
        diff = None
        if op.startswith("agent") and "openai" not in op:
            diff = statistics.median(v - b for v, b in zip(values, base, strict=True))
        rows.append(
            (name, op, statistics.median(values), percentile(values, 0.95), stmts[op], diff)
        )
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
    print(
        f"| backend | operation (n={args.turns}, interleaved) | median ms | p95 ms "
        "| SQL statements / turn | median paired overhead vs raw, ms |"
    )
    print("|---|---|---:|---:|---:|---:|")
    for backend, op, median, p95, stmts, diff in results:
        extra = "" if diff is None else f"{diff:+.2f}"
        print(f"| {backend} | {op} | {median:.2f} | {p95:.2f} | {stmts:.1f} | {extra} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
