"""Markdown tables from a benchmark run: operations, targets, scaling rows."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

OURS = "ours"
STEADY = "Steady state"
PLAIN = "floor: plain table INSERT + COMMIT"
STATES = ("live", "open transaction")


def _f(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "—"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def _rows(run: dict[str, Any]) -> list[dict[str, Any]]:
    return run["rows"]


def _find(run, op_prefix: str, impl: str = OURS, *, steady: bool = False) -> list[dict[str, Any]]:
    """Measured rows of `impl` whose operation starts with `op_prefix` (steady rows apart)."""
    return [
        r
        for r in _rows(run)
        if r["op"].startswith(op_prefix) and r["impl"] == impl and r["median_ms"] is not None
        and (r["section"] == STEADY) == steady
    ]  # fmt: skip


def _median(run, op: str, impl: str) -> float | None:
    """The median of exactly this operation and implementation, or None."""
    for r in _rows(run):
        if r["op"] == op and r["impl"] == impl and r["median_ms"] is not None:
            return r["median_ms"]
    return None


def _ratio_target(label: str, ours: float | None, other: float | None, limit: float) -> list:
    """[(label, "x.xx×", ratio <= limit)] when both figures exist."""
    if ours is None or other is None:
        return []
    ratio = ours / other
    return [(label, f"{ratio:.2f}×", ratio <= limit)]


def _floor(run, op: str) -> dict[str, Any] | None:
    for r in _rows(run):
        if r["op"] == op and r["impl"].startswith("floor") and r["median_ms"] is not None:
            return r
    return None


def _size_of(op: str) -> int:
    m = re.search(r"([\d,]+) (?:messages|sessions)", op) or re.search(r"of ([\d,]+)", op)
    return int(m.group(1).replace(",", "")) if m else 0


def operations_table(run: dict[str, Any]) -> str:
    """Every measured row, grouped by section, with ours ÷ this."""
    lines = []
    section = None
    ours_by_op = {r["op"]: r for r in _rows(run) if r["impl"] == OURS}
    for r in _rows(run):
        if r["section"] != section:
            section = r["section"]
            lines += [
                "",
                f"#### {section}",
                "",
                "| operation | implementation | median ms | p95 ms | SQL stmts | ours ÷ this "
                "| notes |",
                "|---|---|---:|---:|---:|---:|---|",
            ]
        ours = ours_by_op.get(r["op"])
        ratio = "—"
        if r["impl"] != OURS and ours and r["median_ms"] and ours["median_ms"]:
            ratio = f"{ours['median_ms'] / r['median_ms']:.2f}"
        notes = [r["note"]] if r["note"] else []
        extra = r.get("extra") or {}
        if "rows_per_s" in extra:
            notes.append(f"{extra['rows_per_s']:,.0f} rows/s, {extra['mb_per_s']:.1f} MB/s")
        if "peak_mb" in extra:
            notes.append(f"peak Python memory {extra['peak_mb']:.1f} MB")
        if "msgs_per_s" in extra:
            notes.append(f"{extra['msgs_per_s']:,.0f} msgs/s total, {extra['errors']} errors")
        if "sessions_per_s" in extra:
            notes.append(f"removed {extra['removed']:,} ({extra['sessions_per_s']:,.0f}/s)")
        stmts = r["stmts"]
        lines.append(
            f"| {r['op']} | {r['impl']} | {_f(r['median_ms'], 3)} | {_f(r['p95_ms'], 3)} | "
            f"{'—' if stmts is None else _f(stmts, 1)} | {ratio} | {'; '.join(notes)} |"
        )
    return "\n".join(lines)


def targets(run: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    """(target, measured, met) for every target of the issue that this run can check."""
    out: list[tuple[str, str, bool | None]] = []
    op = "append one message (chat of 20)"
    ours, floor = _find(run, op), _floor(run, op)
    if ours and floor:
        ratio = ours[0]["median_ms"] / floor["median_ms"]
        out.append(("append ≤ 1.5× raw INSERT+COMMIT", f"{ratio:.2f}×", ratio <= 1.5))
    loads = _find(run, "load whole history")
    worst = None
    for r in loads:
        f = _floor(run, r["op"])
        if f:
            ratio = r["median_ms"] / f["median_ms"]
            if worst is None or ratio > worst[0]:
                worst = (ratio, r["op"])
    if worst:
        out.append(
            ("history load ≤ 2× raw SELECT (worst size)", f"{worst[0]:.2f}× ({worst[1]})",
             worst[0] <= 2.0)
        )  # fmt: skip
    sized = [r for r in loads if _size_of(r["op"]) <= 1000]
    if sized:
        r = max(sized, key=lambda r: _size_of(r["op"]))
        peers = [
            p for p in _rows(run)
            if p["op"] == r["op"] and p["impl"] != OURS and not p["impl"].startswith("floor")
            and p["median_ms"] is not None
        ]  # fmt: skip
        if peers:
            best = min(peers, key=lambda p: p["median_ms"])
            out.append(
                (f"{r['op']}: faster than every peer",
                 f"ours {r['median_ms']:.2f} ms vs best peer {best['impl']} "
                 f"{best['median_ms']:.2f} ms", r["median_ms"] < best["median_ms"])
            )  # fmt: skip
    for label, prefix in (
        ("last-50 load flat (largest ÷ smallest ≤ 1.3)", "load last 50"),
        ("session-list page flat (largest ÷ smallest ≤ 1.3)", "first page (50)"),
    ):
        rs = sorted(_find(run, prefix), key=lambda r: _size_of(r["op"]))
        if len(rs) >= 2:
            ratio = rs[-1]["median_ms"] / rs[0]["median_ms"]
            out.append((label, f"{ratio:.2f}", ratio <= 1.3))
    search = _find(run, "search")
    if search:
        worst_s = max(search, key=lambda r: r["p95_ms"])
        total = run["messages"]
        ok = worst_s["p95_ms"] < 50 if run["backend"] == "postgresql" else None
        out.append(
            (f"search p95 < 50 ms ({total:,} messages, target applies at 1M on PostgreSQL)",
             f"worst p95 {worst_s['p95_ms']:.1f} ms ({worst_s['op']})", ok)
        )  # fmt: skip
    for op, limit in (("session_metrics, 30 days, all users", 200),
                      ("session_metrics, 30 days, heaviest user", 50)):  # fmt: skip
        warm = [r for r in _rows(run) if r["op"] == op and r["impl"] == OURS]
        if warm and warm[0]["median_ms"] is not None:
            at_scale = run["messages"] >= 10_000_000 and run["backend"] == "postgresql"
            out.append(
                (f"{op} < {limit} ms (target applies at 10M on PostgreSQL)",
                 f"median {warm[0]['median_ms']:.1f} ms at {run['messages']:,} messages",
                 warm[0]["median_ms"] < limit if at_scale else None)
            )  # fmt: skip
    exports = sorted(_find(run, "CSV export"), key=lambda r: _size_of(r["op"]))
    for r in exports:
        f = _floor(run, r["op"])
        if f:
            ratio = r["extra"]["rows_per_s"] / f["extra"]["rows_per_s"]
            out.append(
                (f"{r['op']}: ≥ 0.5× {f['impl'][7:]} throughput", f"{ratio:.2f}×", ratio >= 0.5)
            )
    if len(exports) >= 2:
        a, b = exports[0]["extra"]["peak_mb"], exports[-1]["extra"]["peak_mb"]
        out.append(
            ("export peak memory flat", f"{a:.1f} MB at {_size_of(exports[0]['op']):,} → "
             f"{b:.1f} MB at {_size_of(exports[-1]['op']):,}", b <= a * 1.3 + 1)
        )  # fmt: skip
    ui = sorted(_find(run, "chat page"), key=lambda r: _size_of(r["op"]))
    if len(ui) >= 2:
        ratio = ui[-1]["median_ms"] / ui[0]["median_ms"]
        out.append(("chat page run, largest ÷ smallest ≤ 1.5", f"{ratio:.2f}", ratio <= 1.5))
    return out + append_targets(run) + steady_targets(run) + rest_targets(run)


def rest_targets(run: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    """The REST section's targets (bench/rest_load.py), when the run has that section."""
    from bench import rest_load

    rest = [r for r in _rows(run) if r["section"] == "rest"]
    if not any(r["op"] == rest_load.SINGLE_RAW for r in rest):
        return []  # no REST section, or one of a run from before the minimal-client row
    from bench.harness import Row

    return list(rest_load.targets([Row(**r) for r in rest]))


def append_targets(run: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    """Append against the plain-table floor and against every peer; load 1,000 vs raw SELECT."""
    op = "append one message (chat of 20)"
    ours = _median(run, op, OURS)
    out = _ratio_target("append ≤ 2× plain-table INSERT+COMMIT", ours, _median(run, op, PLAIN), 2.0)
    peers = [
        r for r in _rows(run) if r["op"] == op and r["median_ms"] is not None
        and r["impl"] != OURS and not r["impl"].startswith(("floor", "reference"))
    ]  # fmt: skip
    if ours is not None and peers:
        best = min(peers, key=lambda r: r["median_ms"])
        out.append((f"{op}: faster than every peer",
                    f"ours {ours:.3f} ms vs best peer {best['impl']} {best['median_ms']:.3f} ms",
                    ours < best["median_ms"]))  # fmt: skip
    op = "load whole history (1,000 messages)"
    floor = _median(run, op, "floor: raw SELECT ORDER BY id")
    return out + _ratio_target(f"{op} ≤ 1.5× raw SELECT", _median(run, op, OURS), floor, 1.5)


def steady_targets(run: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    """The steady-state goals, per state: flat last 50 and session page, load, append."""
    out: list[tuple[str, str, bool | None]] = []
    for state in STATES:
        for label, prefix in (("last 50", "load last 50"), ("session page", "first page (50)")):
            rs = sorted((r for r in _find(run, prefix, steady=True) if r["op"].endswith(
                f"({state})")), key=lambda r: _size_of(r["op"]))  # fmt: skip
            if len(rs) >= 2:
                ratio = rs[-1]["median_ms"] / rs[0]["median_ms"]
                out.append((f"steady ({state}): {label} largest ÷ smallest ≤ 1.3",
                            f"{ratio:.2f} ({_size_of(rs[0]['op']):,} → "
                            f"{_size_of(rs[-1]['op']):,})", ratio <= 1.3))  # fmt: skip
        if run["backend"] != "postgresql":
            continue  # SQLite keeps its flatness targets only (the ratios are PostgreSQL's)
        loads = [r for r in _find(run, "load whole history", steady=True)
                 if r["op"].endswith(f"({state})")]  # fmt: skip
        for r in loads:
            floor = _median(run, r["op"], "floor: raw SELECT ORDER BY id")
            out += _ratio_target(f"steady ({state}): {r['op'][:-len(state) - 3]} ≤ 1.5× raw "
                                 "SELECT", r["median_ms"], floor, 1.5)  # fmt: skip
        op = f"append one message ({state})"
        out += _ratio_target(f"steady ({state}): append ≤ 2× plain-table INSERT+COMMIT",
                             _median(run, op, OURS), _median(run, op, PLAIN), 2.0)  # fmt: skip
    return out


def scaling_rows(run: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(what, sizes, largest ÷ smallest)."""
    out = []
    groups = {
        "whole-history load": "load whole history",
        "last-50 load": "load last 50",
        "session-list first page": "first page (50)",
        "CSV export time": "CSV export",
        "chat page script run": "chat page",
    }
    impls = sorted({r["impl"] for r in _rows(run)})
    for label, prefix in groups.items():
        for impl in impls:
            rs = sorted(_find(run, prefix, impl), key=lambda r: _size_of(r["op"]))
            if len(rs) >= 2:
                lo, hi = rs[0], rs[-1]
                out.append(
                    (f"{label} — {impl}",
                     f"{_size_of(lo['op']):,} → {_size_of(hi['op']):,}",
                     f"{hi['median_ms'] / lo['median_ms']:.2f}")
                )  # fmt: skip
    for impl in impls:
        small = _find(run, "append one message (chat of 20)", impl)
        big = [
            r for r in _find(run, "append one message (chat of", impl) if "of 20)" not in r["op"]
        ]
        if small and big:
            out.append(
                (f"append one message — {impl}", f"20 → {_size_of(big[0]['op']):,}",
                 f"{big[0]['median_ms'] / small[0]['median_ms']:.2f}")
            )  # fmt: skip
    return out


SUMMARY_COLUMNS = ("floor", OURS, "langchain-postgres", "SQLChatMessageHistory (tuned)",
                   "SQLChatMessageHistory (as documented)")  # fmt: skip


def summary_table(run: dict[str, Any]) -> list[str]:
    """Medians side by side for the append and the load of 1,000 (the issue's table shape)."""
    ops = (("append one message (chat of 20)", PLAIN),
           ("load whole history (1,000 messages)", "floor: raw SELECT ORDER BY id"),
           ("append one message (live)", PLAIN),
           ("append one message (open transaction)", PLAIN))  # fmt: skip
    lines = ["| operation | " + " | ".join(SUMMARY_COLUMNS) + " |",
             "|---|" + "---:|" * len(SUMMARY_COLUMNS)]  # fmt: skip
    for op, floor in ops:
        cells = [_median(run, op, floor if col == "floor" else col) for col in SUMMARY_COLUMNS]
        if cells[1] is None:
            continue
        label = f"{op} (floor: {floor[7:]})"
        lines.append(f"| {label} | " + " | ".join(_f(c, 3) for c in cells) + " |")
    return lines if len(lines) > 2 else []


def _seeding(run: dict[str, Any]) -> str:
    """How the run's data came to be: seeded now, or kept from an earlier run's seeding."""
    data = f"{run['messages']:,} messages in {run['sessions']:,} sessions"
    if run.get("reused_database"):
        return f"{data}, seeded by an earlier run (database {run['reused_database']} kept)"
    return f"seeded {data} in {run['seed_seconds']:.1f} s"


def render(run: dict[str, Any], env: dict[str, str], command: str) -> str:
    """The Markdown block of one run."""
    title = f"### {run['size']} · {run['backend']}"
    head = [
        title,
        "",
        f"Command: `{command}` · {_seeding(run)} · "
        + ", ".join(f"{k} {v}" for k, v in env.items() if k != "machine")
        + f" · {env.get('machine', '')}"
        + (
            f" · client and server processes pinned to CPU {run['pinned_cpu']}"
            if run.get("pinned_cpu") is not None
            else ""
        ),
        "",
        "Targets:",
        "",
        "| target | measured | met |",
        "|---|---|---|",
    ]
    for name, measured, ok in targets(run):
        head.append(f"| {name} | {measured} | {'—' if ok is None else ('yes' if ok else 'NO')} |")
    summary = summary_table(run)
    if summary:
        head += ["", "Side by side (median ms):", "", *summary]
    head += ["", "Scaling rows (median at the largest size ÷ median at the smallest):", ""]
    head += ["| what | sizes | ratio |", "|---|---|---:|"]
    head += [f"| {a} | {b} | {c} |" for a, b, c in scaling_rows(run)]
    return "\n".join(head) + "\n" + operations_table(run) + "\n"


def update_docs(path: Path, key: str, markdown: str) -> None:
    """Replace (or append) the block between <!-- results:key --> markers in `path`."""
    begin, end = f"<!-- results:{key} -->", f"<!-- /results:{key} -->"
    block = f"{begin}\n{markdown}\n{end}"
    content = path.read_text() if path.exists() else "# Benchmarks\n"
    if begin in content and end in content:
        pre, rest = content.split(begin, 1)
        _old, post = rest.split(end, 1)
        content = pre + block + post
    else:
        content = content.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(content)
