"""The benchmark harness in quick mode through its CLI: every table row is produced and written
to JSON and Markdown (no timing assertions)."""

from __future__ import annotations

import importlib.util
import json

import pytest

from bench import report
from bench.run import main
from bench.seed import SIZES
from bench.steady import SHAPES

QUICK = SIZES["quick"]
STEADY_QUICK = SHAPES["quick"]
PLAIN = "floor: plain table INSERT + COMMIT"
PEERS = ["SQLChatMessageHistory (as documented)", "SQLChatMessageHistory (tuned)",
         "JSON document per chat", "langchain-postgres"]  # fmt: skip


PEER_MODULES = {  # what each peer imports; the JSON-document peer needs nothing extra
    "SQLChatMessageHistory (as documented)": ("langchain_community",),
    "SQLChatMessageHistory (tuned)": ("langchain_community",),
    "JSON document per chat": (),
    "langchain-postgres": ("langchain_postgres", "psycopg"),
}


def peer_installed(name: str) -> bool:
    """True when every module the peer needs can be imported here."""
    return all(importlib.util.find_spec(mod) is not None for mod in PEER_MODULES[name])


def steady_rows() -> set[tuple[str, str]]:
    """The steady section's rows at the quick shape, for both states."""
    shape, rows = STEADY_QUICK, set()
    for state in ("live", "open transaction"):
        for n in (shape.small_history, shape.large_history):
            rows.add((f"load last 50 of {n:,} ({state})", "ours"))
        for n in (shape.small_sessions, shape.large_sessions):
            rows.add((f"first page (50), user with {n:,} sessions ({state})", "ours"))
        op = f"load whole history ({shape.load_history:,} messages) ({state})"
        rows |= {(op, "ours"), (op, "floor: raw SELECT ORDER BY id")}
        op = f"append one message ({state})"
        rows |= {(op, "ours"), (op, "floor: raw INSERT + COMMIT"), (op, PLAIN)}
    return rows


def expected_rows(backend: str) -> set[tuple[str, str]]:
    """(operation, implementation) pairs the quick run must report."""
    rows: set[tuple[str, str]] = set()
    floor_load, floor_append = "floor: raw SELECT ORDER BY id", "floor: raw INSERT + COMMIT"
    for n in QUICK.histories:
        op = f"load whole history ({n:,} messages)"
        rows |= {(op, "ours"), (op, floor_load)} | {(op, p) for p in PEERS}
        if n >= 100:
            rows.add((f"load last 50 of {n:,}", "ours"))
    big = max(n for n in QUICK.histories if n <= 1000)
    for op in ("append one message (chat of 20)", f"append one message (chat of {big:,})"):
        rows |= {(op, "ours"), (op, floor_append), (op, PLAIN)} | {(op, p) for p in PEERS}
        if backend == "postgresql":
            rows.add((op, "reference: our CTE statement via raw psycopg2"))
    rows |= steady_rows()
    op = "append a turn (user + assistant)"
    rows |= {(op, "ours"), (op, "floor: raw INSERT ×2 + COMMIT")} | {(op, p) for p in PEERS}
    for n in QUICK.list_users:
        rows.add((f"first page (50), user with {n:,} sessions", "ours"))
    for n in QUICK.exports:
        floor = "floor: COPY TO STDOUT WITH CSV" if backend == "postgresql" else (
            "floor: raw cursor + csv module")  # fmt: skip
        rows |= {
            (f"CSV export of {n:,} messages", "ours"),
            (f"CSV export of {n:,} messages", floor),
        }
    rows |= {("session_metrics, 30 days, all users", "ours"),
             ("session_metrics, 30 days, heaviest user", "ours"),
             (f"cleanup of {QUICK.old_sessions:,} old sessions", "ours")}  # fmt: skip
    if backend == "postgresql":  # the roll-ups: first call and the live computation, once
        for who in ("all users", "heaviest user"):
            for how in ("cold: fills roll-ups", "live, no roll-ups"):
                rows.add((f"session_metrics, 30 days, {who} ({how})", "ours"))
    op = f"{QUICK.writers} concurrent writers × {QUICK.writer_appends} appends"
    rows |= {(op, "ours"), (op, floor_append)}
    return rows


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_quick_run_produces_every_row(backend, pg_server_url, monkeypatch, tmp_path):
    monkeypatch.setenv("BENCH_DATABASE_URL", pg_server_url)
    argv = ["--quick", "--backend", backend, "--no-pin", "--out", str(tmp_path)]
    assert main(argv) == 0
    run = json.loads((tmp_path / f"quick-{backend}.json").read_text())
    assert run["backend"] == backend and run["size"] == "quick"
    assert run["command"] == "python -m bench " + " ".join(argv)
    got = {(r["op"], r["impl"]): r for r in run["rows"]}
    missing = expected_rows(backend) - set(got)
    assert not missing, f"rows missing from the report: {sorted(missing)}"
    assert any(op.startswith("page ") and "keyset" in op for op, _impl in got)
    assert sum(op.startswith("search ") for op, _impl in got) == 5  # incl. the phrase
    for (op, impl), row in got.items():
        if impl == "langchain-postgres" and backend == "sqlite":
            assert row["note"] == "PostgreSQL only"
            continue
        if impl in PEERS and not peer_installed(impl):
            assert "not installed" in row["note"], f"{op} / {impl}: an absent peer must say why"
            continue
        if impl in PEERS:
            assert not row["note"], f"{op} / {impl}: an installed peer is measured"
        assert row["median_ms"] is not None and row["median_ms"] > 0, (op, impl)
        assert row["p95_ms"] >= row["median_ms"], (op, impl)
        if impl == "ours" and not op.startswith(("CSV", "cleanup")) and "writers" not in op \
                and row["section"] != "rest":  # fmt: skip
            assert row["stmts"] is not None and row["stmts"] >= 1, (op, impl)
    if backend == "sqlite":
        assert got[("load whole history (10 messages)", "langchain-postgres")]["note"]
    # the floor's statements, counted like ours: SQLite's explicit BEGIN IMMEDIATE counts
    begin = 1 if backend == "sqlite" else 0
    assert got[("append one message (chat of 20)", "floor: raw INSERT + COMMIT")]["stmts"] == (
        1 + begin
    )
    assert got[("append a turn (user + assistant)", "floor: raw INSERT ×2 + COMMIT")]["stmts"] == (
        2 + begin
    )
    cleanup = got[(f"cleanup of {QUICK.old_sessions:,} old sessions", "ours")]
    assert cleanup["extra"]["removed"] == QUICK.old_sessions
    writers = got[(f"{QUICK.writers} concurrent writers × {QUICK.writer_appends} appends", "ours")]
    assert writers["extra"]["errors"] == 0 and writers["n"] == QUICK.writers * QUICK.writer_appends
    export = got[(f"CSV export of {max(QUICK.exports):,} messages", "ours")]
    assert export["extra"]["peak_mb"] > 0 and export["extra"]["rows_per_s"] > 0

    markdown = (tmp_path / f"quick-{backend}.md").read_text()
    assert markdown == report.render(run, run["environment"], run["command"])
    assert got[("append one message (live)", PLAIN)]["stmts"] == 1 + begin
    if backend == "postgresql":  # the scope travels with the statement: one per call
        for op in ("load last 50 of 60 (live)", "append one message (open transaction)"):
            assert got[(op, "ours")]["stmts"] == 1, op
    for target in ("steady (live): last 50", "steady (open transaction): session page"):
        assert target in markdown
    rest = [op for (op, _impl), row in got.items() if row["section"] == "rest"]
    assert len(rest) == (5 if backend == "postgresql" else 0), rest
    if backend == "postgresql":
        assert "REST turn ≤ 1.5×" in markdown
    for target in ("append ≤ 1.5×", "history load ≤ 2×", "last-50 load flat",
                   "session-list page flat", "search p95", "export peak memory flat"):  # fmt: skip
        assert target in markdown
    for op, impl in expected_rows(backend):
        assert f"| {op} | {impl} |" in markdown


def test_update_docs_replaces_only_its_block(tmp_path):
    doc = tmp_path / "BENCHMARKS.md"
    doc.write_text("# Benchmarks\n\nintro\n")
    report.update_docs(doc, "quick-sqlite", "first")
    report.update_docs(doc, "quick-postgresql", "other")
    report.update_docs(doc, "quick-sqlite", "second")
    text = doc.read_text()
    assert "intro" in text and "second" in text and "other" in text and "first" not in text
    assert text.count("<!-- results:quick-sqlite -->") == 1


def test_quick_ui_row():
    """The chat-page row: one AppTest script run for the shortest and the longest history."""
    from bench.run import throwaway_database
    from bench.seed import seed
    from bench.ui import ui_rows
    from pa_core.db import create_db_engine

    with throwaway_database("sqlite", QUICK) as url:
        engine = create_db_engine(url)
        seeded = seed(engine, QUICK)
        engine.dispose()
        rows = ui_rows(url, QUICK, seeded, log=lambda _msg: None)
    ops = [r.op for r in rows]
    assert ops == [
        f"chat page script run, session of {min(QUICK.histories):,} messages",
        f"chat page script run, session of {max(QUICK.histories):,} messages",
    ]
    for row in rows:
        assert row.median_ms > 0 and row.p95_ms >= row.median_ms
    # the long session shows one page of messages, not all of them
    assert rows[0].note.endswith(f"{min(QUICK.histories)} messages rendered")
    assert rows[1].note.endswith("50 messages rendered")


def test_a_kept_database_is_measured_again_without_seeding(pg_server_url, monkeypatch, tmp_path):
    from sqlalchemy import create_engine, text

    monkeypatch.setenv("BENCH_DATABASE_URL", pg_server_url)
    name = f"pa_bench_kept_{tmp_path.name[-12:].lower().replace('-', '_')}"
    common = ["--quick", "--backend", "postgresql", "--no-pin", "--sections", "metrics"]
    admin = create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    try:
        assert main([*common, "--keep-database", name, "--out", str(tmp_path / "a")]) == 0
        assert main([*common, "--reuse-database", name, "--out", str(tmp_path / "b")]) == 0
        first, again = (
            json.loads((tmp_path / d / "quick-postgresql-metrics.json").read_text())
            for d in ("a", "b")
        )
        assert first["reused_database"] is None and again["reused_database"] == name
        assert again["messages"] == first["messages"]
        assert {r["op"] for r in again["rows"]} == {r["op"] for r in first["rows"]}
        with pytest.raises(SystemExit, match="BENCH_NOW"):  # kept for another size: refused
            main(["--size", "small", *common[1:], "--reuse-database", name])
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
