"""CSV export over the API (and the same bytes from the CLI) on both backends."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

from pa_core.cli import main

P = "/api/v1/personal-assistant"
ROOT = Path(__file__).resolve().parents[2]


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def test_export_csv_all_and_one_session(client, seeded, as_alice, as_root):
    (a1, a2), b1 = seeded
    r = client.get(f"{P}/export.csv", headers=as_alice)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = _rows(r.text)
    assert len(rows) == 3 and {row["session_id"] for row in rows} == {a1, a2}
    assert all(row["username"] == "alice" for row in rows)
    formula = next(row for row in rows if row["session_id"] == a2)
    assert formula["content"].startswith("'=") and formula["session_title"].startswith("'=")
    r = client.get(f"{P}/sessions/{a1}/export.csv", headers=as_alice)
    assert r.status_code == 200
    assert [row["content"] for row in _rows(r.text)] == [
        "How deep should tomato seedlings be planted?",
        "Plant tomatoes deep.",
    ]
    assert client.get(f"{P}/sessions/{b1}/export.csv", headers=as_alice).status_code == 404
    empty = client.get(f"{P}/export.csv", headers=as_root)
    assert empty.status_code == 200 and _rows(empty.text) == []


def test_cli_export_csv_is_byte_for_byte_the_api_export(
    client, seeded, db_url, auth_file, tmp_path, as_alice
):
    """`python -m pa_core export-csv` (file and stdout) writes exactly what /export.csv answers."""
    api_bytes = client.get(f"{P}/export.csv", headers=as_alice).content
    assert api_bytes.startswith(b"session_id,") and b"'=SUM" in api_bytes  # no BOM
    out = tmp_path / "alice.csv"
    argv = ["--database-url", db_url, "export-csv", "--user", "alice", "--output", str(out)]
    assert main(argv) == 0
    assert out.read_bytes() == api_bytes
    env = {**os.environ, "PA_AUTH_CONFIG": str(auth_file)}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pa_core",
            "--database-url",
            db_url,
            "export-csv",
            "--user",
            "alice",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == api_bytes
    (a1, _), _ = seeded
    one = client.get(f"{P}/sessions/{a1}/export.csv", headers=as_alice).content
    assert main([*argv, "--session", a1]) == 0
    assert out.read_bytes() == one
