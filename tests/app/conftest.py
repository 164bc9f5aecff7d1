"""Fixtures for the Streamlit AppTest suite: a real database, a real auth YAML, a logged-in app."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from app_helpers import COOKIE_KEY, PASSWORDS, AppEnv

from pa_core import auth


@pytest.fixture(scope="session")
def auth_template(tmp_path_factory) -> Path:
    """An auth YAML with alice (admin) and bob (user), hashed once per run."""
    path = tmp_path_factory.mktemp("auth") / "auth.yaml"
    auth.add_user(path, "alice", PASSWORDS["alice"], name="Alice Admin", admin=True)
    auth.add_user(path, "bob", PASSWORDS["bob"], name="Bob User")
    return path


@pytest.fixture
def app_env(db_url, tmp_path, auth_template, monkeypatch) -> AppEnv:
    """Environment variables pointing the app at a fresh database and a copy of the auth YAML."""
    auth_path = tmp_path / "auth" / "auth.yaml"
    auth_path.parent.mkdir()
    shutil.copy(auth_template, auth_path)
    monkeypatch.setenv("PA_DATABASE_URL", db_url)
    monkeypatch.setenv("PA_AUTH_CONFIG", str(auth_path))
    monkeypatch.setenv("PA_COOKIE_KEY", COOKIE_KEY)
    monkeypatch.setenv("PA_LLM_PROVIDER", "offline")
    for name in ("PA_LLM_BASE_URL", "PA_LLM_API_KEY", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return AppEnv(db_url, auth_path)
