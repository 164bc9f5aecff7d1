"""The REST load section (bench/rest_load.py) in quick mode through its CLI: every row is
produced and written to JSON and Markdown (no timing assertions)."""

from __future__ import annotations

import json

from bench import rest_load


def test_quick_rest_load_produces_every_row(pg_server_url, monkeypatch, tmp_path):
    monkeypatch.setenv("BENCH_DATABASE_URL", pg_server_url)
    argv = ["--quick", "--out", str(tmp_path)]
    assert rest_load.main(argv) == 0
    result = json.loads((tmp_path / "quick-postgresql-rest.json").read_text())
    assert result["command"] == "python -m bench.rest_load " + " ".join(argv)
    plan = rest_load.QUICK
    rows = {r["op"]: r for r in result["rows"]}
    closed = f"closed loop: {plan.users} users x {plan.turns} turns, no think time"
    paced = f"paced: {plan.users} users x {plan.turns} turns, {plan.rate:g} turns/s offered"
    single, raw = rest_load.SINGLE, rest_load.SINGLE_RAW
    local = "single user: the same turn in-process (service-only)"
    assert set(rows) == {single, raw, local, closed, paced}
    assert rows[single]["n"] == rows[raw]["n"] == rows[local]["n"] == plan.single_turns
    assert rows[raw]["extra"]["rest_over_service"] > 0
    assert rows[single]["extra"]["rest_over_service_httpx"] > 0
    for op in (closed, paced):  # every turn answered and stored (a failed one ends the run)
        extra = rows[op]["extra"]
        assert rows[op]["n"] == extra["turns"] == plan.users * plan.turns, op
        assert extra["turns_per_s"] > 0 and extra["p99_ms"] >= extra["p50_ms"] > 0, op
        assert extra["server_cpu_ms_per_turn"] >= 0 and extra["p99_over_single_median"] > 0, op
    assert rows[paced]["extra"]["offered_per_s"] == plan.rate
    markdown = (tmp_path / "quick-postgresql-rest.md").read_text()
    assert markdown == rest_load.render([rest_load.Row(**r) for r in result["rows"]],
                                        result["command"])  # fmt: skip
    for target in ("REST turn ≤ 1.5×", "closed-loop throughput ≥ 2×", "p99 < 4×"):
        assert target in markdown
    for op in rows:
        assert f"| {op} |" in markdown
