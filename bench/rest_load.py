"""The REST chat turn under a bounded loopback load (section `rest`, docs/BENCHMARKS.md).

    python -m bench.rest_load [--quick] [--users 50] [--turns 20] [--rate 147] [--time-limit 240]

Starts the real API (`python -m pa_core serve-api`, uvicorn in a subprocess) on a throwaway
PostgreSQL database, creates the users with one API token each (and an auth YAML listing them),
and sends offline chat turns over HTTP to 127.0.0.1 with httpx. Rows:

  single user     one user, one turn after the other: median / p95 of the REST turn, measured
                  interleaved with the same turn made in this process (PersonalAssistant.chat
                  with the offline provider on its own session): the service-only median, and
                  REST ÷ service-only. The REST turn is timed twice: with httpx (the client of
                  the loads below) and with the standard library's http.client over one
                  keep-alive connection, which leaves out httpx's own per-request cost; the
                  "≤ 1.5×" target uses the latter (what the API adds)
  closed loop     U users x T turns, each user sending its next turn as soon as the last one is
                  answered (no think time): the maximum throughput, with p50 / p95 / p99. By
                  Little's law p99 is then about U / throughput, whatever the server does.
  paced           the same users on a fixed schedule: each sends a turn every U / rate seconds
                  (think time = that interval minus the turn), so the offered load is `rate`
                  turns/s; latency counts from the scheduled send time, so a server that falls
                  behind shows it (no coordinated omission)

Everything is bounded: fixed counts, loopback only, and --time-limit seconds for all loads
together (a load cut short says so in its note).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import bcrypt
import httpx
import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

import pa_core
from bench.harness import Row, cpu_seconds_of, percentile
from bench.seed import SIZES
from pa_core.agent import ContextCache, PersonalAssistant
from pa_core.config import Settings

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "/api/v1/personal-assistant"
SECTION = "REST chat turn (offline assistant, PostgreSQL)"
BASELINE = {"turns_per_s": 73.6, "p95_ms": 889.0}  # measured before this work (issue 13)


@dataclass
class Plan:
    """The counts of one run."""

    users: int = 50
    turns: int = 20
    single_turns: int = 200
    rate: float = 147.0
    time_limit_s: float = 240.0
    warmup: int = 20


SERVER_ARGS = ("--workers", "2", "--no-access-log")  # see "Performance: REST", ARCHITECTURE.md
SINGLE = "single user: one turn (POST /chat)"
SINGLE_RAW = "single user: one turn (POST /chat), minimal HTTP client"
QUICK = Plan(users=3, turns=3, single_turns=10, rate=20.0, time_limit_s=60.0, warmup=2)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_auth_yaml(path: Path, names: list[str]) -> None:
    """An auth YAML listing `names` (one throwaway password hash for all: tokens log in)."""
    password = bcrypt.hashpw(os.urandom(12).hex().encode(), bcrypt.gensalt(rounds=4)).decode()
    users = {name: {"email": f"{name}@example.com", "password": password} for name in names}
    config = {
        "credentials": {"usernames": users},
        "cookie": {"name": "pa_auth", "key": "k" * 40, "expiry_days": 30},
    }
    path.write_text(yaml.safe_dump(config), encoding="utf-8")


@contextlib.contextmanager
def api_server(
    db_url: str, workdir: Path, env: dict[str, str], args: tuple[str, ...] = ()
) -> Iterator[tuple[str, int]]:
    """The API in a uvicorn subprocess on 127.0.0.1; yields (its base URL, its pid) once
    healthy."""
    port = free_port()
    inherited = {k: v for k, v in os.environ.items() if k not in ("PA_DATABASE_URL",)}
    log_path = workdir / "server.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pa_core", "--database-url", db_url, "serve-api",
             "--host", "127.0.0.1", "--port", str(port), *args],
            cwd=ROOT, env={**inherited, **env}, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(proc, base, log_path)
            yield base, proc.pid
        finally:
            if os.environ.get("BENCH_REST_KEEP_LOG"):
                log.flush()
                Path(os.environ["BENCH_REST_KEEP_LOG"]).write_text(log_path.read_text())
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process `pid` and of its child processes (the uvicorn
    workers) so far, from Linux's /proc."""
    return cpu_seconds_of(lambda p, _name, fields: str(pid) in (p, fields[1]))


def sessions_opened(url: str) -> int:
    """How many connections to the database `url` PostgreSQL has counted so far (a pool that
    keeps opening connections under load shows here)."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            sql = "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
            return int(conn.execute(text(sql)).scalar_one())
    finally:
        engine.dispose()


def _wait_healthy(proc: subprocess.Popen, base: str, log_path: Path) -> None:
    """Poll /health until it answers 200 (60 s at most)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("the API server exited:\n" + log_path.read_text())
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(base + PREFIX + "/health", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise SystemExit("the API server did not become ready within 60 s")


class Users:
    """The load's users: name, UserRecord, API token, and their session (after `open`)."""

    def __init__(self, svc: pa_core.ConversationService, count: int, stamp: str):
        """Create `count` users with one API token each."""
        self.names = [f"rest-{stamp}-{n}" for n in range(count)]
        self.records = [svc.ensure_user(name) for name in self.names]
        self.tokens = [svc.issue_token(user, name="bench")[0] for user in self.records]
        self.sessions: list[str] = []

    def headers(self, n: int) -> dict[str, str]:
        """The Authorization header of user `n`."""
        return {"Authorization": f"Bearer {self.tokens[n]}"}


def _check(response: httpx.Response) -> dict:
    """The JSON of a 200 reply that was stored; SystemExit otherwise (nothing timed is wrong)."""
    if response.status_code != 200:
        raise SystemExit(f"turn failed: {response.status_code} {response.text[:300]}")
    body = response.json()
    if not body.get("saved") or "=" not in body.get("content", ""):
        raise SystemExit(f"turn not answered as expected: {body}")
    return body


def message(n: int) -> str:
    """The turn's text: the offline assistant answers it with its calculator tool."""
    return f"What is {n} * 7?"


def open_sessions(base: str, users: Users) -> None:
    """One first turn per user over HTTP (creates and titles its session)."""
    with httpx.Client(base_url=base + PREFIX, timeout=60) as client:
        for n in range(len(users.names)):
            reply = client.post("/chat", json={"message": message(0)}, headers=users.headers(n))
            body = _check(reply)
            users.sessions.append(body["session_id"])


class RawClient:
    """POST /chat over one keep-alive HTTP/1.1 connection with the standard library: what the
    server adds, without httpx's own per-request cost (about 2 ms here, measured on /health)."""

    def __init__(self, base: str, headers: dict[str, str]):
        """A connection to `base` (http://host:port) sending `headers` with every request."""
        host, _, port = base.removeprefix("http://").partition(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=60)
        self.headers = {**headers, "Content-Type": "application/json"}

    def chat(self, body: dict) -> dict:
        """One turn's JSON; SystemExit unless it was answered and stored."""
        self.conn.request("POST", PREFIX + "/chat", json.dumps(body), self.headers)
        response = self.conn.getresponse()
        return _check(httpx.Response(response.status, content=response.read()))

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()


def single_user(base: str, url: str, users: Users, plan: Plan) -> dict[str, list[float]]:
    """ms of the same turn by user 0, interleaved one for one: over REST with httpx ("httpx"),
    over REST with the standard library's client ("raw"), and in this process ("local")."""
    svc = pa_core.ConversationService.from_url(url)
    offline = Settings(PA_LLM_PROVIDER="offline")
    assistant = PersonalAssistant(svc, users.records[0], settings=offline, cache=ContextCache())
    own_sid = assistant.chat(message(0)).session_id
    times: dict[str, list[float]] = {"httpx": [], "raw": [], "local": []}
    body = {"session_id": users.sessions[0]}
    with (
        httpx.Client(base_url=base + PREFIX, timeout=60, headers=users.headers(0)) as client,
        contextlib.closing(RawClient(base, users.headers(0))) as raw,
    ):
        # each client on its own session: one session written through two API workers would
        # make each worker's context cache stale on every turn
        raw_body = {"session_id": raw.chat({"message": message(0)})["session_id"]}
        for i in range(-plan.warmup, plan.single_turns):
            t0 = time.perf_counter()
            _check(client.post("/chat", json={**body, "message": message(i)}))
            t1 = time.perf_counter()
            raw.chat({**raw_body, "message": message(i)})
            t2 = time.perf_counter()
            reply = assistant.chat(message(i), session_id=own_sid)
            t3 = time.perf_counter()
            if not reply.saved:
                raise SystemExit("the in-process turn was not stored")
            if i >= 0:
                for name, start, end in (("httpx", t0, t1), ("raw", t1, t2), ("local", t2, t3)):
                    times[name].append((end - start) * 1000)
    return times


async def _user_loop(
    client: httpx.AsyncClient, users: Users, n: int, plan: Plan, start: float,
    interval: float | None, deadline: float, out: list[float],
) -> None:  # fmt: skip
    """User `n`'s turns; with `interval`, each is scheduled at start + offset + k * interval."""
    offset = (n / plan.users) * interval if interval else 0.0
    body = {"session_id": users.sessions[n]}
    for k in range(plan.turns):
        scheduled = start + offset + k * (interval or 0.0)
        if interval:
            await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
        else:
            scheduled = time.perf_counter()
        if time.perf_counter() > deadline:
            return
        response = await client.post(
            "/chat", json={**body, "message": message(k)}, headers=users.headers(n)
        )
        _check(response)
        out.append((time.perf_counter() - scheduled) * 1000)


async def _load(base: str, users: Users, plan: Plan, rate: float | None, limit_s: float):
    """(latencies ms, seconds) of U users x T turns; paced at `rate` turns/s when given.

    Each user has its own keep-alive connection, as a browser or a script would. The client's
    heap is frozen for the load (gc.freeze): all 50 users share this one event loop, and a full
    collection of the client's own objects (55-95 ms, measured with gc.callbacks) stalled every
    user at once and made up the whole p99 of the paced load.
    """
    interval = plan.users / rate if rate else None
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                httpx.AsyncClient(base_url=base + PREFIX, timeout=120, limits=limits)
            )
            for _ in range(plan.users)
        ]
        latencies: list[float] = []
        gc.collect()
        gc.freeze()
        start = time.perf_counter()
        deadline = start + limit_s
        try:
            await asyncio.gather(
                *(
                    _user_loop(client, users, n, plan, start, interval, deadline, latencies)
                    for n, client in enumerate(clients)
                )
            )
        finally:
            gc.unfreeze()
        return latencies, time.perf_counter() - start


def load_row(op: str, latencies: list[float], seconds: float, planned: int, **extra) -> Row:
    """A row of a multi-user load: percentiles, throughput, and whether it was cut short."""
    done = len(latencies)
    stats = {
        "turns": done,
        "seconds": round(seconds, 2),
        "turns_per_s": round(done / seconds, 1) if seconds else 0.0,
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        **extra,
    }
    note = f"{stats['turns_per_s']} turns/s, p99 {stats['p99_ms']} ms"
    if "server_cpu_ms_per_turn" in stats:
        note += f", API process CPU {stats['server_cpu_ms_per_turn']} ms/turn"
    if "db_connections_opened" in stats:
        note += f", {stats['db_connections_opened']} database connections opened"
    if done < planned:
        note += f"; cut short by the time limit ({done} of {planned} turns)"
    return Row("rest", op, "ours", n=done, median_ms=statistics.median(latencies),
               p95_ms=percentile(latencies, 0.95), extra=stats, note=note)  # fmt: skip


def run(
    url: str,
    plan: Plan,
    *,
    log=print,
    server_env: dict[str, str] | None = None,
    server_args: tuple[str, ...] = SERVER_ARGS,
) -> list[Row]:
    """Every row of the section, measured on the migrated PostgreSQL database `url`
    (`server_args`: options of `serve-api`)."""
    svc = pa_core.ConversationService.from_url(url)
    users = Users(svc, plan.users, f"{os.getpid()}")
    with tempfile.TemporaryDirectory(prefix="pa-rest-bench-") as tmp:
        work = Path(tmp)
        write_auth_yaml(work / "auth.yaml", users.names)
        env = {
            "PA_AUTH_CONFIG": str(work / "auth.yaml"),
            "PA_LLM_PROVIDER": "offline",
            "PA_SPOOL_DIR": str(work / "spool"),
            **(server_env or {}),
        }
        with api_server(url, work, env, server_args) as (base, pid):
            open_sessions(base, users)
            rows = _single_rows(single_user(base, url, users, plan))
            for row in rows:
                log(f"  {row.op:<58} median {row.median_ms:8.2f} ms  p95 {row.p95_ms:8.2f}")
            single_median = rows[0].median_ms
            t_end = time.monotonic() + plan.time_limit_s
            planned = plan.users * plan.turns
            for op, rate in (
                (f"closed loop: {plan.users} users x {plan.turns} turns, no think time", None),
                (f"paced: {plan.users} users x {plan.turns} turns, {plan.rate:g} turns/s "
                 "offered", plan.rate),
            ):  # fmt: skip
                left = max(1.0, t_end - time.monotonic())
                cpu0, opened0 = cpu_seconds(pid), sessions_opened(url)
                latencies, seconds = asyncio.run(_load(base, users, plan, rate, left))
                cpu = (cpu_seconds(pid) - cpu0) * 1000 / max(1, len(latencies))
                opened = sessions_opened(url) - opened0
                row = load_row(op, latencies, seconds, planned,
                               server_cpu_ms_per_turn=round(cpu, 2),
                               db_connections_opened=opened,
                               p99_over_single_median=round(
                                   percentile(latencies, 0.99) / single_median, 2),
                               offered_per_s=rate)  # fmt: skip
                rows.append(row)
                log(f"  {op:<58} {row.note}, p50 {row.extra['p50_ms']} p95 {row.p95_ms:.1f}")
    return rows


def _single_rows(times: dict[str, list[float]]) -> list[Row]:
    """The single-user rows: the REST turn with httpx and with the minimal client, the
    service-only turn; REST ÷ service-only in the notes (the target uses the minimal client)."""
    local = statistics.median(times["local"])
    ratios = {name: statistics.median(times[name]) / local for name in ("httpx", "raw")}

    def row(op: str, impl: str, name: str, extra: dict | None = None, note: str = "") -> Row:
        samples = times[name]
        return Row("rest", op, impl, n=len(samples), median_ms=statistics.median(samples),
                   p95_ms=percentile(samples, 0.95), extra=extra or {}, note=note)  # fmt: skip

    return [
        row(SINGLE, "ours", "httpx", {"rest_over_service_httpx": round(ratios["httpx"], 2)},
            f"REST ÷ service-only median {ratios['httpx']:.2f} (httpx client)"),
        row(SINGLE_RAW, "ours", "raw", {"rest_over_service": round(ratios["raw"], 2)},
            f"REST ÷ service-only median {ratios['raw']:.2f} (http.client)"),
        row("single user: the same turn in-process (service-only)", "service calls", "local"),
    ]  # fmt: skip


def targets(rows: list[Row]) -> list[tuple[str, str, bool]]:
    """(target, measured, met) of the issue's REST goals."""
    by_op = {row.op: row for row in rows}
    closed, paced = (next(r for r in rows if r.op.startswith(k)) for k in ("closed", "paced"))
    ratio = by_op[SINGLE_RAW].extra["rest_over_service"]
    base = BASELINE["turns_per_s"]
    out = [("REST turn ≤ 1.5× its service calls", f"{ratio:.2f}×", ratio <= 1.5)]
    tps = closed.extra["turns_per_s"]
    out.append((f"closed-loop throughput ≥ 2× {base} turns/s", f"{tps} turns/s", tps >= 2 * base))
    for row in (closed, paced):
        p99 = row.extra["p99_over_single_median"]
        out.append((f"{row.op}: p99 < 4× single-user median", f"{p99:.2f}×", p99 < 4))
    return out


def render(rows: list[Row], command: str) -> str:
    """The section's Markdown: targets, then every row."""
    lines = ["### rest · postgresql", "", f"Command: `{command}`", "", "Targets:", "",
             "| target | measured | met |", "|---|---|---|"]  # fmt: skip
    lines += [f"| {t} | {m} | {'yes' if ok else 'NO'} |" for t, m, ok in targets(rows)]
    lines += ["", f"#### {SECTION}", "",
              "| operation | implementation | n | median ms | p95 ms | p50 ms | p99 ms "
              "| turns/s | notes |", "|---|---|---:|---:|---:|---:|---:|---:|---|"]  # fmt: skip
    for r in rows:
        e = r.extra
        lines.append(
            f"| {r.op} | {r.impl} | {r.n} | {r.median_ms:.2f} | {r.p95_ms:.2f} | "
            f"{e.get('p50_ms', '—')} | {e.get('p99_ms', '—')} | {e.get('turns_per_s', '—')} "
            f"| {r.note} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Command line: run the section once on a throwaway database and write its results."""
    from bench.run import environment, postgres_server, throwaway_database

    parser = argparse.ArgumentParser(prog="python -m bench.rest_load", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few users and turns (CI)")
    parser.add_argument("--users", type=int)
    parser.add_argument("--turns", type=int, help="turns per user in each multi-user load")
    parser.add_argument("--single-turns", type=int)
    parser.add_argument("--rate", type=float, help="offered turns/s of the paced load")
    parser.add_argument("--time-limit", type=float, help="seconds for the multi-user loads")
    parser.add_argument(
        "--server-env", action="append", default=[], metavar="NAME=VALUE",
        help="a setting of the API process, e.g. PA_API_TOKEN_CACHE_S=0",
    )  # fmt: skip
    parser.add_argument(
        "--server-args", default=" ".join(SERVER_ARGS),
        help=f"options of serve-api (default: {' '.join(SERVER_ARGS)!r})",
    )  # fmt: skip
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = parser.parse_args(argv)
    plan = replace(QUICK if args.quick else Plan())
    for field, value in (("users", args.users), ("turns", args.turns),
                         ("single_turns", args.single_turns), ("rate", args.rate),
                         ("time_limit_s", args.time_limit)):  # fmt: skip
        if value is not None:
            setattr(plan, field, value)
    size = SIZES["quick" if args.quick else "small"]
    command = " ".join(["python -m bench.rest_load", *(argv if argv is not None else sys.argv[1:])])
    with postgres_server() as admin, throwaway_database("postgresql", size, admin) as url:
        server_env = dict(item.split("=", 1) for item in args.server_env)
        rows = run(url, plan, server_env=server_env, server_args=tuple(args.server_args.split()))
        env = environment(admin)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{size.name}-postgresql-rest"
    result = {"environment": env, "command": command, "plan": plan.__dict__,
              "baseline": BASELINE, "rows": [r.as_dict() for r in rows]}  # fmt: skip
    (out / f"{stem}.json").write_text(json.dumps(result, indent=1, default=str))
    md = render(rows, command)
    (out / f"{stem}.md").write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
