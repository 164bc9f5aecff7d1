"""pages/common.py helpers that need no running app."""

from __future__ import annotations

from pa_core import Settings
from pages import common


def test_setting_names_cover_every_settings_field_and_alias():
    names = set(common.SETTING_NAMES)
    # Fields added later are picked up without a list to maintain; these were once missed.
    assert {"PA_LLM_TIMEOUT", "PA_LLM_MAX_RETRIES", "PA_SESSION_RETENTION_DAYS"} <= names
    assert {"PA_DATABASE_URL", "DATABASE_URL", "PA_LLM_API_KEY", "OPENAI_API_KEY"} <= names
    assert len(names) == len(common.SETTING_NAMES) >= len(Settings.model_fields)


def test_auth_config_is_parsed_again_only_when_the_file_changes(tmp_path, monkeypatch):
    import os

    from pa_core import auth

    path = tmp_path / "auth.yaml"
    auth.add_user(path, "carol", "carol-password")
    calls = []
    real = auth.load_auth_config
    monkeypatch.setattr(auth, "load_auth_config", lambda p: calls.append(p) or real(p))
    first = common.auth_config(path)
    first["credentials"]["usernames"].clear()  # a caller's change never reaches the cache
    assert list(common.auth_config(path)["credentials"]["usernames"]) == ["carol"]
    assert len(calls) == 1
    auth.add_user(path, "dave", "dave-password")
    os.utime(path, ns=(1, 1))  # a different mtime even on a coarse clock
    calls.clear()
    assert list(common.auth_config(path)["credentials"]["usernames"]) == ["carol", "dave"]
    assert len(calls) == 1
    assert common.auth_config(tmp_path / "missing.yaml")["credentials"]["usernames"] == {}
