"""The benchmark run: seed, measure ours / the floor / the peers, write the tables."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import pa_core
from bench import report, steady
from bench.harness import Row, StatementCounter, measure_group, percentile
from bench.peers import Floor, make_peers
from bench.seed import (
    COMMON_WORD,
    NOW,
    PHRASE,
    RARE_WORD,
    SIZES,
    Seeded,
    Size,
    check_seeded,
    plan_only,
    seed,
)
from pa_core.db import create_db_engine
from tests.support.pg_cluster import ThrowawayCluster

DEFAULT_PG = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
MSG = ("Please summarise the budget report for the Q3 planning meeting and list the three "
       "biggest risks. Also check whether the travel schedule for the customer visit still fits "
       "the draft invoice dates, and remind me what we agreed last week about the vendor "
       "contract renewal and the open support tickets for the Berlin office, thanks!!")  # fmt: skip
REPLY = MSG.upper()
ROOT = Path(__file__).resolve().parent.parent
SECTIONS = [
    "messages",
    "steady",
    "sessions",
    "search",
    "export",
    "metrics",
    "concurrency",
    "cleanup",
    "rest",
    "ui",
]


def admin_url() -> str:
    """The PostgreSQL server to create the throwaway benchmark database on."""
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or DEFAULT_PG
    return pa_core.config.normalize_url(url)


def _reachable(url: str) -> bool:
    """True when a connection to `url` succeeds."""
    engine = create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means "not usable"
        return False
    finally:
        engine.dispose()


@contextlib.contextmanager
def postgres_server(log=print):
    """The admin URL of the PostgreSQL server the run creates its database on.

    BENCH_DATABASE_URL or TEST_DATABASE_URL when set; else the default local server when it
    answers; else a throwaway cluster (initdb/pg_ctl, as the tests do), stopped at the end.
    """
    url = admin_url()
    if os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL"):
        yield url
        return
    if _reachable(url):
        yield url
        return
    cluster = ThrowawayCluster()
    if not cluster.available:
        raise SystemExit(
            f"PostgreSQL at {url} is not reachable and initdb/pg_ctl are not installed: "
            "set BENCH_DATABASE_URL or use --backend sqlite"
        )
    log(f"PostgreSQL at {url} is not reachable: starting a throwaway cluster in {cluster.dir}")
    try:
        url = cluster.start()
        yield url
    finally:
        with contextlib.suppress(Exception):
            cluster.stop()
        shutil.rmtree(cluster.dir, ignore_errors=True)


@contextlib.contextmanager
def throwaway_database(backend: str, size: Size, admin: str | None = None, keep: str | None = None):
    """A new, migrated database of `backend`; dropped (or deleted) afterwards.

    `admin`: the PostgreSQL admin URL (default: admin_url()); `keep`: the name of a PostgreSQL
    database to create and keep (measured again later with reused_database).
    """
    if backend == "sqlite":
        tmp = Path(tempfile.mkdtemp(prefix="pa-bench-"))
        url = f"sqlite:///{tmp / 'bench.db'}"
        try:
            pa_core.migrate(url)
            yield url
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return
    admin = admin or admin_url()
    name = keep or f"pa_bench_{size.name}_{uuid.uuid4().hex[:8]}"
    eng = create_engine(admin, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        if keep:
            conn.execute(text(f"COMMENT ON DATABASE \"{name}\" IS '{_kept_mark(size)}'"))
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    try:
        pa_core.migrate(url)
        yield url
    finally:
        from pa_core.db import dispose_engines

        dispose_engines()
        if not keep:
            with eng.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        eng.dispose()


def _kept_mark(size: Size) -> str:
    """What a kept database remembers of its seeding: the size and the seed's "now"."""
    return f"pa-bench size={size.name} now={NOW.isoformat()}"


@contextlib.contextmanager
def reused_database(size: Size, name: str, admin: str | None = None):
    """A database kept by an earlier --keep-database run, upgraded to the current migrations."""
    admin = admin or admin_url()
    eng = create_engine(admin, isolation_level="AUTOCOMMIT")
    sql = "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = :n"
    with eng.connect() as conn:
        mark = conn.execute(text(sql), {"n": name}).scalar()
    eng.dispose()
    if mark != _kept_mark(size):
        raise SystemExit(
            f"database {name!r} is marked {mark!r}; expected {_kept_mark(size)!r} "
            "(use the same --size and BENCH_NOW=<the seed's now>)"
        )
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    pa_core.migrate(url)
    yield url


def expect(ok: bool, what: str) -> None:
    """Fail the run loudly when an operation about to be timed does not do its work."""
    if not ok:
        raise AssertionError(f"benchmark sanity check failed: {what}")


class Bench:
    """All measurements of one backend at one size."""

    def __init__(
        self, url: str, size: Size, seeded: Seeded, log, pin_cpu: int | None = None,
        admin: str | None = None,
    ):  # fmt: skip
        self.url = url
        self.admin = admin
        self.pin_cpu = pin_cpu if not url.startswith("sqlite") else None
        self.size = size
        self.seeded = seeded
        self.log = log
        self.backend = "sqlite" if url.startswith("sqlite") else "postgresql"
        self.engine = create_db_engine(url)
        self.counter = StatementCounter()
        self.counter.watch(self.engine)
        self.svc = pa_core.ConversationService(self.engine)
        self.rows: list[Row] = []
        self.floor = Floor(url)
        self.peers, self.missing = make_peers(url, on_engine=self.counter.watch)
        users = {u.username: u for u in self.svc.list_users()}
        self.user_of = {uid: users[name] for name, uid in seeded.users.items()}
        self.hist = users["hist"]

    def close(self) -> None:
        """Release every connection."""
        for peer in self.peers:
            peer.close()
        self.floor.close()
        self.engine.dispose()

    def group(
        self, section: str, entries: list[tuple[str, str, Any, float | None]], *, reps=None
    ) -> list[Row]:
        """Measure (op, impl, fn, static) entries in interleaved rounds; static None: count SQL."""
        self.pin()
        fns = {(op, impl): fn for op, impl, fn, _static in entries}
        counted = {(op, impl) for op, impl, _fn, static in entries if static is None}
        results = measure_group(fns, reps=reps or self.size.reps, budget_s=self.size.budget_s,
                                counter=self.counter, counted=counted)  # fmt: skip
        rows = []
        for op, impl, _fn, static in entries:
            samples, stmts = results[(op, impl)]
            row = Row(section, op, impl, n=len(samples), median_ms=statistics.median(samples),
                      p95_ms=percentile(samples, 0.95),
                      stmts=stmts if static is None else static)  # fmt: skip
            rows.append(row)
            self.rows.append(row)
            self.log(f"  {op:<44} {impl:<40} median {row.median_ms:9.3f} ms  "
                     f"p95 {row.p95_ms:9.3f}")  # fmt: skip
        return rows

    def pin(self, cpus: set[int] | None = None) -> None:
        """Pin this process and the benchmark database's server processes to one CPU.

        Client and server on the same core give a stable round-trip time; otherwise each
        connection lands at random in a fast (same core) or slow (cross-core wake-up) regime.
        """
        if self.pin_cpu is None:
            return
        cpus = cpus or {self.pin_cpu}
        try:
            os.sched_setaffinity(0, cpus)
            for pid in self.floor.backend_pids():
                os.sched_setaffinity(pid, cpus)
        except (OSError, AttributeError):
            self.pin_cpu = None  # not permitted here: run unpinned, the report says so

    def unpin(self) -> None:
        """Let the process and the server processes use every CPU again."""
        if self.pin_cpu is not None:
            self.pin(set(range(os.cpu_count() or 1)))

    def missing_rows(self, section: str, op: str) -> None:
        """Rows that say why a peer is absent."""
        for name, why in self.missing.items():
            self.rows.append(Row(section, op, name, note=why))

    # -- operations ------------------------------------------------------------------------------

    def history_contents(self, sid: str) -> list[tuple[str, str]]:
        """(role, content) of a seeded session, to give the peers identical histories."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT role, content FROM conversation_messages WHERE session_id = :s "
                    "ORDER BY id"
                ),
                {"s": sid},
            ).all()
        return [(r[0], r[1]) for r in rows]

    def run_messages(self) -> None:
        """Appends and history loads: ours, the floor, the peers."""
        sd = self.seeded
        hist = self.hist
        sec = "Messages"
        peer_chats: dict[str, dict[int, str]] = {p.name: {} for p in self.peers}
        for n, sid in sd.history_sessions.items():
            contents = self.history_contents(sid)
            for p in self.peers:
                peer_chats[p.name][n] = p.create(contents)
        append_sid = sd.append_sessions[0]
        contents20 = self.history_contents(append_sid)
        for p in self.peers:
            peer_chats[p.name][20] = p.create(contents20)

        # Loads first (appends below grow the sessions they write to).
        for n, sid in sd.history_sessions.items():
            op = f"load whole history ({n:,} messages)"
            # untimed: every implementation returns the whole history
            expect(len(self.svc.get_messages(sid, user=hist)) == n, f"ours: {op}")
            expect(len(self.floor.load(sid)) == n, f"floor: {op}")
            for p in self.peers:
                expect(len(p.load(peer_chats[p.name][n])) == n, f"{p.name}: {op}")
            if n >= 100:
                last = self.svc.get_messages(sid, user=hist, limit=50)
                expect(len(last) == 50, f"load last 50 of {n:,}")
            entries = [
                (op, "ours", lambda sid=sid: self.svc.get_messages(sid, user=hist), None),
                (
                    op,
                    "floor: raw SELECT ORDER BY id",
                    lambda sid=sid: self.floor.load(sid),
                    self.floor.statements["load"],
                ),
            ]
            for p in self.peers:
                chat = peer_chats[p.name][n]
                entries.append(
                    (op, p.name, lambda p=p, c=chat: p.load(c), p.statements.get("load"))
                )
            self.group(sec, entries, reps=self._reps_for(n))
            self.missing_rows(sec, op)
        self.group(sec, [
            (f"load last 50 of {n:,}", "ours",
             lambda sid=sid: self.svc.get_messages(sid, user=hist, limit=50), None)
            for n, sid in sd.history_sessions.items() if n >= 100
        ])  # fmt: skip

        floor_sid = sd.append_sessions[1]
        big = max(n for n in sd.history_sessions if n <= 1000)
        for op, our_sid, floor_target, size in (
            ("append one message (chat of 20)", append_sid, floor_sid, 20),
            (f"append one message (chat of {big:,})", sd.history_sessions[big],
             sd.history_sessions[big], big),
        ):  # fmt: skip
            entries = [
                (op, "ours", lambda s_=our_sid: self.svc.add_message(s_, user=hist, content=MSG),
                 None),
                (op, "floor: raw INSERT + COMMIT",
                 lambda s_=floor_target: self.floor.append(s_, hist.id, MSG),
                 self.floor.statements["append"]),
                (op, "floor: plain table INSERT + COMMIT",
                 lambda s_=floor_target: self.floor.append_plain(s_, hist.id, MSG),
                 self.floor.statements["append"]),
            ]  # fmt: skip
            if self.backend == "postgresql":
                entries.append((op, "reference: our CTE statement via raw psycopg2",
                                lambda s_=floor_target: self.floor.append_cte(s_, hist.id, MSG),
                                1))  # fmt: skip
            for p in self.peers:
                chat = peer_chats[p.name][size]
                entries.append((op, p.name, lambda p=p, c=chat: p.append(c, MSG),
                                p.statements.get("append")))  # fmt: skip
            self.group(sec, entries)
            self.missing_rows(sec, op)

        op = "append a turn (user + assistant)"
        turn_sid = sd.append_sessions[2]

        def our_turn():
            self.svc.add_message(turn_sid, user=hist, role="user", content=MSG)
            self.svc.add_message(
                turn_sid,
                user=hist,
                role="assistant",
                content=REPLY,
                tools_used=["calculator"],
                processing_time_ms=420,
                token_count=99,
            )

        entries = [
            (op, "ours", our_turn, None),
            (op, "floor: raw INSERT ×2 + COMMIT",
             lambda: self.floor.append_turn(floor_sid, hist.id, MSG, REPLY),
             self.floor.statements["turn"]),
        ]  # fmt: skip
        for p in self.peers:
            chat = peer_chats[p.name][20]
            entries.append((op, p.name, lambda p=p, c=chat: p.append_turn(c, MSG, REPLY),
                            p.statements.get("turn")))  # fmt: skip
        self.group(sec, entries)
        self.missing_rows(sec, op)

    def run_steady(self) -> None:
        """The live steady state, on a database of its own (bench/steady.py)."""
        with throwaway_database(self.backend, self.size, self.admin) as url:
            self.rows.extend(steady.measure(url, self.size.name, log=self.log, pin=self.pin_pids))

    def run_rest(self) -> None:
        """The REST chat turn under a bounded loopback load (bench/rest_load.py; PostgreSQL)."""
        if self.backend != "postgresql":
            return
        from bench import rest_load

        plan = rest_load.QUICK if self.size.name == "quick" else rest_load.Plan()
        self.unpin()  # the API server and the load generator need both cores
        with throwaway_database(self.backend, self.size, self.admin) as url:
            self.rows.extend(rest_load.run(url, plan, log=self.log))

    def pin_pids(self, pids: list[int]) -> None:
        """Pin this process and these server processes to the benchmark's CPU (if pinning)."""
        if self.pin_cpu is None:
            return
        try:
            for pid in [0, *pids]:
                os.sched_setaffinity(pid, {self.pin_cpu})
        except (OSError, AttributeError):
            self.pin_cpu = None

    def _reps_for(self, n: int) -> int:
        """Fewer rounds for the big histories (each call is slow; the budget caps them anyway)."""
        return self.size.reps if n <= 1000 else max(10, self.size.reps // 3)

    def run_sessions(self) -> None:
        """One page of the session list for users with few to very many sessions."""
        sec = "Session list"
        entries = []
        for n, uid in self.seeded.list_users.items():
            user = self.user_of[uid]
            page = self.svc.get_user_sessions(user, limit=50)  # untimed sanity check
            expect(len(page) == min(n, 50), f"first page of a user with {n:,} sessions")
            entries.append(
                (
                    f"first page (50), user with {n:,} sessions",
                    "ours",
                    lambda user=user: self.svc.get_user_sessions(user, limit=50),
                    None,
                )
            )
        n = max(self.seeded.list_users)
        user = self.user_of[self.seeded.list_users[n]]
        pages = [self.svc.get_user_sessions(user, limit=50)]
        for _ in range(min(n // 50, 40) - 1):
            pages.append(self.svc.get_user_sessions(user, limit=50, before=pages[-1][-1]))
        cursor = pages[-1][-1]
        entries.append(
            (
                f"page {len(pages) + 1} by keyset, user with {n:,} sessions",
                "ours",
                lambda: self.svc.get_user_sessions(user, limit=50, before=cursor),
                None,
            )
        )
        self.group(sec, entries)  # fmt: skip

    def run_search(self) -> None:
        """Search a rare word, a common word and a quoted phrase, heaviest and typical user."""
        sec = "Search"
        heavy = self.user_of[self.seeded.search_user]
        typical = self.user_of[self.seeded.users["filler00000"]]
        total = self.seeded.total_messages
        heavy_n = max(self.size.exports)
        entries = []
        searches = (
            ("heavy user", heavy, heavy_n, (RARE_WORD, COMMON_WORD, f'"{PHRASE}"')),
            ("typical user", typical, 0, (RARE_WORD, COMMON_WORD)),
        )
        for who, user, count, queries in searches:
            for query in queries:
                kind = {RARE_WORD: "rare word", COMMON_WORD: "common word"}.get(query, "phrase")
                label = f"{kind}, {who}" + (f" ({count:,} msgs)" if count else "")
                op = f"search {label}, table of {total:,}"
                # untimed: the seeding gave every searched user messages with both words
                expect(bool(self.svc.search_messages(user, query)), f"{op} finds nothing")
                fn = lambda user=user, q=query: self.svc.search_messages(user, q)  # noqa: E731
                entries.append((op, "ours", fn, None))
        self.group(sec, entries)

    def run_export(self) -> None:
        """CSV export: throughput (ours vs COPY) and peak Python memory."""
        sec = "CSV export"
        for n, uid in self.seeded.export_users.items():
            user = self.user_of[uid]
            op = f"CSV export of {n:,} messages"

            def ours(user=user):
                size = 0
                for chunk in self.svc.export_csv(user):
                    size += len(chunk)
                return size

            floor_name = (
                "floor: COPY TO STDOUT WITH CSV" if self.backend == "postgresql"
                else "floor: raw cursor + csv module"
            )  # fmt: skip
            reps = max(3, min(self.size.reps, 10))
            row, frow = self.group(sec, [
                (op, "ours", ours, None),
                (op, floor_name, lambda uid=uid: self.floor.export(uid),
                 self.floor.statements["export"]),
            ], reps=reps)  # fmt: skip
            if self.backend == "postgresql" and not row.stmts:
                row.stmts = 1.0  # COPY runs on the driver's cursor, unseen by the listener
            tracemalloc.start()
            try:
                chars = ours()
                _cur, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            row.extra = {
                "rows_per_s": n / (row.median_ms / 1000),
                "mb_per_s": chars / 1e6 / (row.median_ms / 1000),
                "peak_mb": peak / 1e6,
            }
            fchars = self.floor.export(uid)
            frow.extra = {
                "rows_per_s": n / (frow.median_ms / 1000),
                "mb_per_s": fchars / 1e6 / (frow.median_ms / 1000),
            }

    def run_metrics(self) -> None:
        """session_metrics over the last 30 days: everyone cold / warm / live, heaviest user."""
        sec = "Analytics"
        since, until = NOW - timedelta(days=30), NOW + timedelta(days=1)
        heavy = self.user_of[self.seeded.search_user]
        everyone = "session_metrics, 30 days, all users"
        heaviest = "session_metrics, 30 days, heaviest user"
        if self.backend == "postgresql":  # first the calls that fill the roll-ups, then warm
            self._forget_rollups()
            once = {
                f"{everyone} (cold: fills roll-ups)":
                    lambda: self.svc.session_metrics(since=since, until=until),
                f"{everyone} (live, no roll-ups)": lambda: self._live_metrics(None, since, until),
                f"{heaviest} (cold: fills roll-ups)":
                    lambda: self.svc.session_metrics(heavy, since=since, until=until),
                f"{heaviest} (live, no roll-ups)": lambda: self._live_metrics(heavy, since, until),
            }  # fmt: skip
            timed = {op: self._timed_once(fn) for op, fn in once.items()}
            results = [m for _ms, m, _n in timed.values()]
            expect(results[0] == results[1] and results[2] == results[3],
                   "roll-up metrics equal the live computation")  # fmt: skip
            for op, (ms, _m, stmts) in timed.items():
                row = Row(sec, op, "ours", n=1, median_ms=ms, p95_ms=ms, stmts=stmts)
                self.rows.append(row)
                self.log(f"  {op:<44} {'ours':<40} once   {ms:9.3f} ms")
        self.group(sec, [
            (everyone, "ours",
             lambda: self.svc.session_metrics(since=since, until=until), None),
            (heaviest, "ours",
             lambda: self.svc.session_metrics(heavy, since=since, until=until), None),
        ], reps=max(5, self.size.reps // 4))  # fmt: skip

    def _forget_rollups(self) -> None:
        """Empty the metric roll-ups (the state right after the upgrade)."""
        with self.engine.begin() as conn:
            conn.execute(text("SET LOCAL pa.scope = 'everyone'"))
            conn.execute(text("TRUNCATE metric_buckets, metric_user_buckets, metric_sessions, "
                              "metric_latency, metric_errors, metric_tools"))  # fmt: skip

    def _live_metrics(self, user, since, until):
        """The metrics computed live (the computation before the roll-ups)."""
        from pa_core.service import analytics

        uid = None if user is None else user.id
        with self.svc.transaction(user_id=uid, everyone=uid is None) as conn:
            return analytics.session_metrics(
                conn, user_id=uid, since=since, until=until, sqlite=False, rollups=False
            )

    def _timed_once(self, fn) -> tuple[float, Any, int]:
        """(milliseconds, result, SQL statements) of one call."""
        before = self.counter.count
        t0 = time.perf_counter()
        result = fn()
        return (time.perf_counter() - t0) * 1000, result, self.counter.count - before

    def run_concurrency(self) -> None:
        """8 writer threads, each appending to its own session."""
        sec = "Concurrency"
        k, w = self.size.writer_appends, self.size.writers
        sids = self.seeded.writer_sessions
        hist = self.hist
        self.unpin()  # the writers should use every core
        op = f"{w} concurrent writers × {k} appends"

        def run(make_append):
            lat: list[float] = []
            lock = threading.Lock()
            errors: list[BaseException] = []
            barrier = threading.Barrier(w)

            def worker(i):
                append, close = make_append(i)
                mine = []
                try:
                    barrier.wait()
                    for _ in range(k):
                        t0 = time.perf_counter_ns()
                        append()
                        mine.append((time.perf_counter_ns() - t0) / 1e6)
                except BaseException as exc:  # noqa: BLE001 - reported in the table below
                    errors.append(exc)
                finally:
                    close()
                with lock:
                    lat.extend(mine)

            threads = [threading.Thread(target=worker, args=(i,)) for i in range(w)]
            t0 = time.perf_counter()
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            wall = time.perf_counter() - t0
            return lat, wall, errors

        def ours(i):
            return (lambda: self.svc.add_message(sids[i], user=hist, content=MSG)), (lambda: None)

        def floor(i):
            f = Floor(self.url)
            return (lambda: f.append(sids[i], hist.id, MSG)), f.close

        for impl, make in (("ours", ours), ("floor: raw INSERT + COMMIT", floor)):
            lat, wall, errors = run(make)
            row = Row(sec, op, impl, n=len(lat),
                      median_ms=statistics.median(lat) if lat else None,
                      p95_ms=percentile(lat, 0.95) if lat else None,
                      extra={"msgs_per_s": len(lat) / wall, "errors": len(errors)},
                      note=f"{errors[0]!r}"[:200] if errors else "")  # fmt: skip
            self.rows.append(row)
            self.log(f"  {op:<44} {impl:<40} {len(lat) / wall:9.1f} msgs/s, {len(errors)} errors")

    def run_cleanup(self) -> None:
        """cleanup_old_sessions over the seeded old sessions (one run; it deletes them)."""
        sec = "Cleanup"
        n = self.size.old_sessions
        before = self.counter.count
        t0 = time.perf_counter_ns()
        removed = self.svc.cleanup_old_sessions(older_than_days=90)
        ms = (time.perf_counter_ns() - t0) / 1e6
        row = Row(sec, f"cleanup of {n:,} old sessions", "ours", n=1, median_ms=ms, p95_ms=ms,
                  stmts=self.counter.count - before,
                  extra={"removed": removed, "sessions_per_s": removed / (ms / 1000)})  # fmt: skip
        self.rows.append(row)
        self.log(f"  cleanup: removed {removed:,} in {ms:,.0f} ms")

    def run_all(self, sections: list[str] | None = None) -> list[Row]:
        """Every section (or the named ones), cleanup last."""
        for name in SECTIONS:
            if name != "ui" and (sections is None or name in sections):
                getattr(self, f"run_{name}")()
        return self.rows


def run_backend(
    backend: str,
    size: Size,
    log=print,
    ui: bool = False,
    pin_cpu: int | None = 0,
    sections: list[str] | None = None,
    admin: str | None = None,
    analyze: bool = True,
    keep: str | None = None,
    reuse: str | None = None,
) -> dict[str, Any]:
    """Seed a throwaway database of `backend` and measure everything; returns the result dict.

    `admin`: the PostgreSQL server's admin URL (default: admin_url()); `analyze=False`: seed
    without VACUUM ANALYZE (tables without statistics). `sections` None: the size's default.
    `keep`: seed into a PostgreSQL database of that name and keep it; `reuse`: measure such a
    kept database again (upgraded to the current migrations) instead of seeding.
    """
    if sections is None and size.sections:
        sections = list(size.sections)
    if reuse:
        opened = reused_database(size, reuse, admin)
    else:
        opened = throwaway_database(backend, size, admin, keep=keep)
    with opened as url:
        eng = create_db_engine(url)
        t0 = time.perf_counter()
        seeded = plan_only(eng, size) if reuse else seed(eng, size, analyze=analyze)
        seed_s = time.perf_counter() - t0
        actual = check_seeded(eng, seeded)
        eng.dispose()
        log(f"{backend}: seeded {actual:,} messages / {seeded.total_sessions:,} sessions "
            f"in {seed_s:.1f} s {seeded.phases or ''}")  # fmt: skip
        bench = Bench(url, size, seeded, log, pin_cpu=pin_cpu, admin=admin)
        try:
            rows = bench.run_all(sections)
            if ui or (sections and "ui" in sections):
                from bench.ui import ui_rows

                rows.extend(ui_rows(url, size, seeded, log))
        finally:
            bench.unpin()
            bench.close()
    return {
        "backend": backend,
        "size": size.name,
        "sections": sections,
        "analyzed": analyze,
        "seed_seconds": seed_s,
        "reused_database": reuse,
        "seed_phases": seeded.phases,
        "messages": actual,
        "sessions": seeded.total_sessions,
        "pinned_cpu": bench.pin_cpu,
        "rows": [r.as_dict() for r in rows],
    }


def environment(admin: str | None = None) -> dict[str, str]:
    """Machine and versions, for the report (`admin`: the PostgreSQL server, if any)."""
    import psycopg2
    import sqlalchemy

    versions = {
        "python": platform.python_version(),
        "sqlalchemy": sqlalchemy.__version__,
        "psycopg2": psycopg2.__version__.split()[0],
        "sqlite": __import__("sqlite3").sqlite_version,
    }
    for mod in ("langchain_community", "langchain_postgres", "langchain_core", "psycopg",
                "streamlit"):  # fmt: skip
        with contextlib.suppress(ImportError):
            from importlib.metadata import version

            versions[mod] = version(mod.replace("_", "-"))
    with contextlib.suppress(Exception):  # the server may be unreachable; report without it
        eng = create_engine(admin or admin_url())
        with eng.connect() as conn:
            versions["postgresql"] = conn.execute(text("SHOW server_version")).scalar_one()
        eng.dispose()
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, {cpu}",
        **versions,
    }


def main(argv: list[str] | None = None) -> int:
    """Command line: python -m bench [--quick | --size small|medium] [--backend ...]."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--quick", action="store_true", help="same as --size quick")
    parser.add_argument("--backend", action="append", choices=["postgresql", "sqlite"],
                        help="repeatable; default both")  # fmt: skip
    parser.add_argument("--ui", action="store_true", help="also time the chat page (AppTest)")
    parser.add_argument("--sections", help=f"comma-separated subset of {','.join(SECTIONS)}")
    parser.add_argument(
        "--no-pin",
        action="store_true",
        help="do not pin the client and PostgreSQL server processes to CPU 0",
    )
    parser.add_argument(
        "--no-analyze",
        action="store_true",
        help="seed without VACUUM ANALYZE: measure tables without statistics",
    )
    parser.add_argument("--keep-database", metavar="NAME",
                        help="PostgreSQL: seed into a new database NAME and keep it")  # fmt: skip
    parser.add_argument("--reuse-database", metavar="NAME",
                        help="PostgreSQL: measure a kept database again, no seeding")  # fmt: skip
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"),
                        help="folder for the JSON and Markdown results")  # fmt: skip
    parser.add_argument("--docs", action="store_true",
                        help="also replace this run's tables in docs/BENCHMARKS.md")  # fmt: skip
    args = parser.parse_args(argv)
    size = SIZES["quick" if args.quick else args.size]
    backends = args.backend or ["postgresql", "sqlite"]
    with contextlib.ExitStack() as stack:
        admin = None
        if "postgresql" in backends:
            admin = stack.enter_context(postgres_server())
        results = {"environment": environment(admin), "command": "python -m bench " + " ".join(
            argv if argv is not None else sys.argv[1:]), "runs": []}  # fmt: skip
        for backend in backends:
            results["runs"].append(
                run_backend(
                    backend,
                    size,
                    ui=args.ui,
                    pin_cpu=None if args.no_pin else 0,
                    sections=args.sections.split(",") if args.sections else None,
                    admin=admin,
                    analyze=not args.no_analyze,
                    keep=args.keep_database if backend == "postgresql" else None,
                    reuse=args.reuse_database if backend == "postgresql" else None,
                )
            )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for run in results["runs"]:
        stem = f"{run['size']}-{run['backend']}"
        if run["sections"]:
            stem += "-" + "-".join(run["sections"])
        (out / f"{stem}.json").write_text(json.dumps(
            {"environment": results["environment"], "command": results["command"], **run},
            indent=1, default=str))  # fmt: skip
        md = report.render(run, results["environment"], results["command"])
        (out / f"{stem}.md").write_text(md)
        print(md)
        if args.docs:
            report.update_docs(ROOT / "docs" / "BENCHMARKS.md", stem, md)
    return 0
