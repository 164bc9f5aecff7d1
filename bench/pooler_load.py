"""A small bounded loopback load: T threads x M `add_message` calls, direct or through PgBouncer.

    python -m bench.pooler_load --url postgresql+psycopg2://postgres@127.0.0.1:6432/DB \
        --threads 8 --messages 250

Each thread is one user with one session (the app's shape: every write is one user's). Prints
messages/s and the CPU seconds PostgreSQL's and PgBouncer's processes used meanwhile (read from
/proc, so on a shared server the figure includes everyone else's work too).
"""

from __future__ import annotations

import argparse
import os
import threading
import time

import pa_core
from bench.harness import cpu_seconds_of

CONTENT = "x" * 360  # the benchmarks' message size


def cpu_seconds(command: str) -> float:
    """User + system CPU seconds of every process named `command` (Linux /proc)."""
    return cpu_seconds_of(lambda _pid, name, _fields: name == command)


def run_load(url: str, threads: int, messages: int) -> dict[str, float]:
    """Run the load; returns messages, seconds, messages/s and the CPU seconds used."""
    pa_core.migrate(url)
    svc = pa_core.ConversationService.from_url(url)
    stamp = f"{os.getpid()}-{int(time.time())}"
    sessions = []
    for n in range(threads):
        user = svc.ensure_user(f"load-{stamp}-{n}")
        sessions.append((user, svc.create_session(user=user).session_id))
    start = threading.Barrier(threads + 1)

    def worker(user, sid) -> None:
        start.wait()
        for _ in range(messages):
            svc.add_message(sid, user=user, role="user", content=CONTENT)

    pool = [threading.Thread(target=worker, args=s) for s in sessions]
    for t in pool:
        t.start()
    pg0, pgb0 = cpu_seconds("postgres"), cpu_seconds("pgbouncer")
    t0 = time.perf_counter()
    start.wait()
    for t in pool:
        t.join()
    seconds = time.perf_counter() - t0
    pg, pgb = cpu_seconds("postgres") - pg0, cpu_seconds("pgbouncer") - pgb0
    total = threads * messages
    return {
        "messages": total,
        "seconds": round(seconds, 2),
        "messages_per_s": round(total / seconds),
        "postgres_cpu_s": round(pg, 2),
        "messages_per_postgres_cpu_s": round(total / pg) if pg else 0,
        "pgbouncer_cpu_s": round(pgb, 2),
    }


def main(argv: list[str] | None = None) -> int:
    """Parse the options, run the load once, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the database (through PgBouncer or not)")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--messages", type=int, default=250, help="per thread")
    args = parser.parse_args(argv)
    result = run_load(args.url, args.threads, args.messages)
    print(" ".join(f"{k}={v}" for k, v in result.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
