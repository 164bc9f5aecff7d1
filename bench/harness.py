"""Timing, statement counting and result rows."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event


@dataclass
class Row:
    """One measured line of a report table."""

    section: str
    op: str
    impl: str
    n: int = 0
    median_ms: float | None = None
    p95_ms: float | None = None
    stmts: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for JSON."""
        return asdict(self)


class StatementCounter:
    """Counts SQL statements sent through every engine it watches (before_cursor_execute)."""

    def __init__(self):
        self.count = 0
        self._watched: set[int] = set()

    def watch(self, engine: Engine) -> None:
        """Count the statements of `engine` from now on."""
        if id(engine) in self._watched:
            return
        self._watched.add(id(engine))
        event.listen(engine, "before_cursor_execute", self._on_execute)

    def _on_execute(self, *_args) -> None:
        self.count += 1


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    k = max(0, min(len(ordered) - 1, int(round(q * len(ordered) + 0.5)) - 1))
    return ordered[k]


def measure_group(
    fns: dict[str, Callable[[], Any]],
    *,
    reps: int,
    budget_s: float,
    counter: StatementCounter | None = None,
    counted: set[str] | None = None,
    warmup: int = 2,
    min_reps: int = 5,
) -> dict[str, tuple[list[float], float | None]]:
    """Time several implementations of one operation in interleaved rounds (fair under noise).

    Returns, per name, the ms samples and SQL statements per call (for names in `counted`).
    """
    counted = counted or set()
    stmts = {name: 0 for name in fns}
    calls = {name: 0 for name in fns}
    samples: dict[str, list[float]] = {name: [] for name in fns}

    def once(name: str, fn: Callable[[], Any]) -> float:
        before = counter.count if counter else 0
        t0 = time.perf_counter_ns()
        fn()
        elapsed = (time.perf_counter_ns() - t0) / 1e6
        if counter:
            stmts[name] += counter.count - before
        calls[name] += 1
        return elapsed

    for _ in range(warmup):
        for name, fn in fns.items():
            once(name, fn)
    deadline = time.perf_counter() + budget_s * len(fns)
    rounds = 0
    order = list(fns.items())
    while rounds < reps and (rounds < min_reps or time.perf_counter() < deadline):
        # rotate the order each round so no implementation always runs right after another
        k = rounds % len(order)
        for name, fn in order[k:] + order[:k]:
            samples[name].append(once(name, fn))
        rounds += 1
    return {
        name: (samples[name], stmts[name] / calls[name] if name in counted else None)
        for name in fns
    }


def cpu_seconds_of(selected: Callable[[str, str, list[str]], bool]) -> float:
    """User + system CPU seconds of every process for which `selected(pid, name, fields)` is
    true, from Linux's /proc (`fields`: /proc/PID/stat after the name; fields[1] is the parent)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # the process ended meanwhile
        name, fields = (
            text[text.index("(") + 1 : text.rindex(")")],
            text[text.rindex(")") + 2 :].split(),
        )
        if selected(stat.parent.name, name, fields):
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")
