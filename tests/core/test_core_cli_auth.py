"""Command line and auth-config helpers, through real processes and real files."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pa_core import Settings, ValidationError, auth
from pa_core.config import normalize_url

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args, env=None, stdin=None):
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "pa_core", *args],
        cwd=ROOT,
        env=full_env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_migrate_user_demo_export_cleanup(db_url, tmp_path):
    env = {"PA_DATABASE_URL": db_url, "PA_AUTH_CONFIG": str(tmp_path / "auth.yaml")}
    assert run_cli("migrate", env=env).returncode == 0
    added = run_cli("user", "add", "erin", "--admin", env=env, stdin="s3cret-pass\n")
    assert added.returncode == 0, added.stderr
    config = auth.load_auth_config(tmp_path / "auth.yaml")
    assert auth.verify_password(config, "erin", "s3cret-pass")
    assert (tmp_path / "auth.yaml").stat().st_mode & 0o777 == 0o600
    listed = run_cli("user", "list", env=env)
    assert "erin\tadmin" in listed.stdout
    dup = run_cli("user", "add", "erin", "--password", "another-pass", env=env)
    assert dup.returncode == 2 and "already exists" in dup.stderr and "Traceback" not in dup.stderr
    demo = run_cli("demo-data", "--user", "erin", "--sessions", "2", "--messages", "3", env=env)
    assert demo.returncode == 0, demo.stderr
    out = tmp_path / "erin.csv"
    exported = run_cli("export-csv", "--user", "erin", "--output", str(out), env=env)
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert rows[0][0] == "session_id" and len(rows) == 1 + 6
    stdout_export = run_cli("export-csv", "--user", "erin", env=env)
    assert stdout_export.stdout.count("erin") == 6
    missing = run_cli("export-csv", "--user", "nobody", env=env)
    assert missing.returncode == 2 and "nobody" in missing.stderr
    dry = run_cli("cleanup", "--older-than-days", "0", "--dry-run", env=env)
    assert dry.returncode == 0 and dry.stdout.startswith("2 session(s)")
    real = run_cli("cleanup", "--older-than-days", "0", env=env)
    assert "removed 2 session(s)" in real.stdout
    assert run_cli("cleanup", "--older-than-days", "-3", env=env).returncode == 2


def test_auth_add_user_rules(tmp_path):
    path = tmp_path / "a.yaml"
    with pytest.raises(ValidationError):
        auth.add_user(path, "bad name", "longenough")
    with pytest.raises(ValidationError):
        auth.add_user(path, "short", "pw")
    auth.add_user(path, "frank", "longenough", name="Frank Zappa", email="f@example.com")
    cfg = auth.load_auth_config(path)
    assert cfg["credentials"]["usernames"]["frank"]["password"].startswith("$2")
    assert auth.user_profile(cfg, "frank") == {
        "display_name": "Frank Zappa",
        "email": "f@example.com",
        "role": "user",
    }
    assert not auth.verify_password(cfg, "frank", "wrong-password")
    assert not auth.verify_password(cfg, "ghost", "longenough")
    cfg["credentials"]["usernames"]["frank"]["password"] = "plaintext"
    assert not auth.verify_password(cfg, "frank", "plaintext")


def test_cookie_key_precedence(tmp_path):
    cfg = auth.load_auth_config(tmp_path / "none.yaml")
    settings = Settings(PA_AUTH_CONFIG=str(tmp_path / "auth.yaml"))
    generated = auth.resolve_cookie_key(settings, cfg)
    assert len(generated) >= 32 and generated == auth.resolve_cookie_key(settings, cfg)
    assert (tmp_path / "cookie_key").stat().st_mode & 0o777 == 0o600
    cfg["cookie"]["key"] = "y" * 40
    assert auth.resolve_cookie_key(settings, cfg) == "y" * 40
    env_settings = Settings(PA_AUTH_CONFIG=str(tmp_path / "auth.yaml"), PA_COOKIE_KEY="z" * 32)
    assert auth.resolve_cookie_key(env_settings, cfg) == "z" * 32
    with pytest.raises(ValidationError):
        auth.resolve_cookie_key(Settings(PA_COOKIE_KEY="short"), cfg)


def test_settings_defaults_and_urls(monkeypatch):
    for name in (
        "PA_DATABASE_URL",
        "DATABASE_URL",
        "PA_LLM_PROVIDER",
        "PA_LLM_API_KEY",
        "OPENAI_API_KEY",
        "PA_LLM_BASE_URL",
        "OPENAI_BASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    s = Settings(_env_file=None)
    assert s.resolved_database_url.startswith("sqlite:///") and s.resolved_llm_provider == "offline"
    assert s.session_retention_days == 90
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/v1")
    assert Settings(_env_file=None).resolved_llm_provider == "openai"
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/db")
    assert Settings(_env_file=None).resolved_database_url == "postgresql+psycopg2://u@h/db"
    assert normalize_url("postgres://x/y") == "postgresql+psycopg2://x/y"
