"""The live steady state: a database written only through the service, as users write it.

No COPY, no VACUUM, no ANALYZE: autovacuum is switched off on the two message tables before the
first write, so the planner never has statistics and no dead row is ever cleaned up. Appends
are interleaved across users and sessions (turns of a user message and an assistant reply with
a client id, as the app and the REST API write them). The hot reads are then measured twice:
with nothing else running ("live"), and after more appends while another connection holds a
transaction open ("open transaction"), which keeps every dead row version alive.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import create_engine

import pa_core
from bench.harness import Row, StatementCounter, measure_group, percentile
from bench.peers import Floor
from pa_core.db import create_db_engine

SECTION = "Steady state"
TABLES = ("conversation_sessions", "conversation_messages")
TEXT = (
    "Could you look at the draft budget for the Berlin office again and tell me which of the "
    "travel items we can move to next quarter without touching the customer visits?"
)
REPLY = "Here is what I found in the draft budget. " * 6


@dataclass(frozen=True)
class Shape:
    """How much the steady section writes (the same shape at every size)."""

    small_sessions: int  # sessions of the user with few
    large_sessions: int  # sessions of the user with many
    small_history: int  # messages of the short conversation
    large_history: int  # messages of the long conversation
    load_history: int  # the conversation loaded whole
    held_appends: int  # appends made while the other transaction is open
    reps: int
    budget_s: float


SHAPES = {
    "quick": Shape(5, 60, 60, 300, 100, 100, 5, 0.3),
    "full": Shape(60, 5_000, 100, 10_000, 1_000, 2_000, 60, 4.0),
}


def shape_for(size_name: str) -> Shape:
    """The quick shape for the quick size, the full one otherwise."""
    return SHAPES["quick" if size_name == "quick" else "full"]


class Writer:
    """Writes turns through the service into named sessions, creating them on first use."""

    def __init__(self, svc: pa_core.ConversationService):
        self.svc = svc
        self.sids: dict[str, str] = {}
        self.turns = 0

    def append(self, user: Any, key: str) -> None:
        """One message of the next turn of session `key` (user and assistant alternate)."""
        sid = self.sids.get(key)
        if sid is None:
            sid = self.sids[key] = self.svc.create_session(user=user).session_id
        self.turns += 1
        if self.turns % 2:
            self.svc.add_message(sid, user=user, content=TEXT, client_id=f"u{self.turns}")
            return
        self.svc.add_message(
            sid, user=user, role="assistant", content=REPLY, tools_used=["calculator"],
            processing_time_ms=300, client_id=f"a{self.turns}", metadata={"model": "offline"},
        )  # fmt: skip


def _schedule(users: dict[str, Any], shape: Shape, scale: float, seed: int) -> list[tuple]:
    """(user, session key) of every append, shuffled: all sessions grow at the same time."""
    plan = [(users["hist"], "small")] * round(shape.small_history * scale)
    plan += [(users["hist"], "large")] * round(shape.large_history * scale)
    plan += [(users["hist"], "load")] * round(shape.load_history * scale)
    for name, count in (("few", shape.small_sessions), ("many", shape.large_sessions)):
        per = max(1, round(2 * scale))
        plan += [(users[name], f"{name}{i}") for i in range(count) for _ in range(per)]
    random.Random(seed).shuffle(plan)
    return plan


def _no_autovacuum(url: str) -> None:
    """Switch autovacuum (and so auto-analyze) off on the message tables (PostgreSQL)."""
    if url.startswith("sqlite"):
        return
    eng = create_engine(url, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        for table in TABLES:
            conn.exec_driver_sql(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
    eng.dispose()


def _has_statistics(url: str) -> bool:
    """True when PostgreSQL holds column statistics for the message tables."""
    if url.startswith("sqlite"):
        return False
    eng = create_engine(url)
    with eng.connect() as conn:
        n = conn.exec_driver_sql(
            "SELECT count(*) FROM pg_stats WHERE tablename IN %(t)s", {"t": TABLES}
        ).scalar_one()
    eng.dispose()
    return n > 0


class OpenTransaction:
    """Another connection with a transaction open: a snapshot that keeps dead rows alive."""

    def __init__(self, url: str):
        self.engine = create_engine(url)
        self.conn = self.engine.connect()
        self.conn.begin()
        if not url.startswith("sqlite"):
            self.conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            self.conn.exec_driver_sql("SELECT txid_current()")
        self.conn.exec_driver_sql("SELECT count(*) FROM conversation_messages").scalar_one()

    def close(self) -> None:
        """Roll back and close."""
        self.conn.rollback()
        self.conn.close()
        self.engine.dispose()


def measure(
    url: str,
    size_name: str,
    log: Callable[[str], None] = print,
    pin: Callable[[list[int]], None] | None = None,
) -> list[Row]:
    """Write the steady-state data through the service, then time the hot operations.

    `pin` receives the database's server process ids before each timed part (CPU pinning).
    """  # fmt: skip
    shape = shape_for(size_name)
    _no_autovacuum(url)
    engine = create_db_engine(url)
    counter = StatementCounter()
    counter.watch(engine)
    svc = pa_core.ConversationService(engine)
    users = {name: svc.ensure_user(name) for name in ("hist", "few", "many")}
    writer = Writer(svc)
    t0 = time.perf_counter()
    for user, key in _schedule(users, shape, 1.0, seed=13):
        writer.append(user, key)
    seconds = time.perf_counter() - t0
    log(f"  steady: {writer.turns:,} appends through the service in {seconds:.1f} s, "
        f"statistics present: {_has_statistics(url)}")  # fmt: skip
    floor = Floor(url)
    rows: list[Row] = []
    pin = pin or (lambda _pids: None)
    try:
        pin(floor.backend_pids())
        rows += _measure_all(svc, floor, counter, users, writer, shape, "live", log)
        holder = OpenTransaction(url)
        try:
            for user, key in _schedule(users, shape, shape.held_appends / _total(shape), 29):
                writer.append(user, key)
            pin(floor.backend_pids())
            rows += _measure_all(svc, floor, counter, users, writer, shape, "open transaction",
                                 log)  # fmt: skip
        finally:
            holder.close()
    finally:
        floor.close()
        engine.dispose()
    return rows


def _total(shape: Shape) -> int:
    """Appends of one full schedule."""
    return (shape.small_history + shape.large_history + shape.load_history
            + 2 * (shape.small_sessions + shape.large_sessions))  # fmt: skip


def _check(svc, users, writer, shape) -> None:
    """The reads about to be timed return what was written (else the run fails)."""
    hist = users["hist"]
    for key in ("small", "large"):
        if len(svc.get_messages(writer.sids[key], user=hist, limit=50)) != 50:
            raise AssertionError(f"steady: last 50 of {key} history")
    for name, n in (("few", shape.small_sessions), ("many", shape.large_sessions)):
        page = svc.get_user_sessions(users[name], limit=50)
        if len(page) != min(50, n) or page != sorted(page, key=lambda s: (s.last_activity_at, s.id),
                                             reverse=True):  # fmt: skip
            raise AssertionError(f"steady: session page of {name}")
    got = len(svc.get_messages(writer.sids["load"], user=hist))
    if got < shape.load_history:
        raise AssertionError(f"steady: whole history {got}")


def _measure_all(svc, floor, counter, users, writer, shape, state, log) -> list[Row]:
    """Every steady row for one state ("live" or "open transaction")."""
    _check(svc, users, writer, shape)
    hist, sids = users["hist"], writer.sids
    entries: list[tuple[str, str, Callable[[], Any], float | None]] = []
    for key, n in (("small", shape.small_history), ("large", shape.large_history)):
        last50 = lambda s=sids[key]: svc.get_messages(s, user=hist, limit=50)  # noqa: E731
        entries.append((f"load last 50 of {n:,} ({state})", "ours", last50, None))
    for name, n in (("few", shape.small_sessions), ("many", shape.large_sessions)):
        page = lambda u=users[name]: svc.get_user_sessions(u, limit=50)  # noqa: E731
        entries.append((f"first page (50), user with {n:,} sessions ({state})", "ours", page, None))
    op = f"load whole history ({shape.load_history:,} messages) ({state})"
    entries += [
        (op, "ours", lambda: svc.get_messages(sids["load"], user=hist), None),
        (op, "floor: raw SELECT ORDER BY id", lambda: floor.load(sids["load"]),
         floor.statements["load"]),
    ]  # fmt: skip
    op = f"append one message ({state})"
    entries += [
        (op, "ours", lambda: svc.add_message(sids["small"], user=hist, content=TEXT), None),
        (op, "floor: raw INSERT + COMMIT",
         lambda: floor.append(sids["small"], hist.id, TEXT), floor.statements["append"]),
        (op, "floor: plain table INSERT + COMMIT",
         lambda: floor.append_plain(sids["small"], hist.id, TEXT), floor.statements["append"]),
    ]  # fmt: skip
    return _group(entries, counter, shape, log)


def _group(entries, counter, shape, log) -> list[Row]:
    """Time entries that share an operation together, in interleaved rounds."""
    rows = []
    by_op: dict[str, list] = {}
    for entry in entries:
        by_op.setdefault(entry[0], []).append(entry)
    for op_entries in by_op.values():
        fns = {(op, impl): fn for op, impl, fn, _ in op_entries}
        counted = {(op, impl) for op, impl, _fn, static in op_entries if static is None}
        results = measure_group(fns, reps=shape.reps, budget_s=shape.budget_s, counter=counter,
                                counted=counted)  # fmt: skip
        for op, impl, _fn, static in op_entries:
            samples, stmts = results[(op, impl)]
            row = Row(SECTION, op, impl, n=len(samples), median_ms=statistics.median(samples),
                      p95_ms=percentile(samples, 0.95),
                      stmts=stmts if static is None else static)  # fmt: skip
            rows.append(row)
            log(f"  {op:<56} {impl:<36} median {row.median_ms:8.3f} ms  p95 {row.p95_ms:8.3f}")
    return rows
