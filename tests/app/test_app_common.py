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
