"""CLI export-json, import, backup and restore, through real processes; backup across backends."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from support.chatgpt_export import FIXTURE, zipped
from support.transfer_data import backup_lines, seed_rich, service_for, without_export_time

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args, url):
    env = {**os.environ, "PA_DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "pa_core", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_import_and_export_json(svc, alice, db_url, tmp_path):
    done = run_cli("import", "--user", "alice", str(FIXTURE), url=db_url)
    assert done.returncode == 0, done.stderr
    assert "2 session(s) with 6 message(s) imported, 1 skipped" in done.stdout
    assert "other branches" in done.stderr
    again = run_cli("import", "--user", "alice", str(FIXTURE), url=db_url)
    assert "0 session(s) with 0 message(s) imported, 3 skipped" in again.stdout
    out = tmp_path / "alice.json"
    exported = run_cli("export-json", "--user", "alice", "--output", str(out), url=db_url)
    assert exported.returncode == 0, exported.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["username"] == "alice" and len(doc["sessions"]) == 2
    to_stdout = run_cli("export-json", "--user", "alice", url=db_url)
    assert without_export_time(to_stdout.stdout) == without_export_time(out.read_text())


def test_cli_import_errors_are_one_line(svc, alice, db_url, tmp_path):
    bad = tmp_path / "bad.zip"
    bad.write_bytes(zipped(b"{}", name="other.json"))
    done = run_cli("import", "--user", "alice", str(bad), url=db_url)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "error: The zip file holds no conversations.json; is it a ChatGPT export?"
    )
    missing = run_cli("import", "--user", "nobody", str(FIXTURE), url=db_url)
    assert missing.returncode == 2 and "no user named 'nobody'" in missing.stderr
    created = run_cli("import", "--user", "nobody", "--create", str(FIXTURE), url=db_url)
    assert created.returncode == 0, created.stderr


def test_backup_sqlite_to_postgresql_and_back(tmp_path, sqlite_template, pg_databases):
    lite_path = tmp_path / "lite.db"
    shutil.copy(sqlite_template, lite_path)
    lite_url = f"sqlite:///{lite_path}"
    lite = service_for(lite_url)
    seed_rich(lite, lite.ensure_user("alice", display_name="Alice", email="a@example.com"))
    seed_rich(lite, lite.ensure_user("bob", role="admin"))
    lite.import_conversations(lite.get_user("bob"), FIXTURE.read_bytes())
    first, second = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    assert run_cli("backup", "--output", str(first), url=lite_url).returncode == 0
    pg_url = pg_databases.migrated()
    try:
        restored = run_cli("restore", str(first), url=pg_url)
        assert restored.returncode == 0, restored.stderr
        assert "restore: 8 session(s) with 14 message(s) imported, 0 skipped" in restored.stdout
        again = run_cli("restore", str(first), url=pg_url)
        assert "restore: 0 session(s) with 0 message(s) imported, 8 skipped" in again.stdout
        assert run_cli("backup", "--output", str(second), url=pg_url).returncode == 0
        one, two = first.read_text(encoding="utf-8"), second.read_text(encoding="utf-8")
        assert backup_lines(one) == backup_lines(two)  # byte for byte but the header's time
        assert len(backup_lines(one)) == 2 + 8
        pg = service_for(pg_url)
        assert pg.get_user("bob").role == "admin"
        assert pg.get_user("alice").created_at == lite.get_user("alice").created_at
    finally:
        pg_databases.drop(pg_url)


def test_restore_refuses_a_file_that_is_not_a_backup(svc, db_url, tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"format": "something-else"}\n')
    done = run_cli("restore", str(path), url=db_url)
    assert done.returncode == 2 and "not a Personal Assistant backup" in done.stderr
    path.write_text(
        '{"format": "personal-assistant-backup", "version": 1}\n{"session": {}}\n',
    )
    done = run_cli("restore", str(path), url=db_url)
    assert done.returncode == 2 and "Line 2 of the backup" in done.stderr
