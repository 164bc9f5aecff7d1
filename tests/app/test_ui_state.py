"""ui.state helpers that need no running app."""

from __future__ import annotations

from pa_core import MigrationError, Settings, StorageError, ValidationError
from ui import state


def test_setting_names_cover_every_settings_field_and_alias():
    names = set(state.SETTING_NAMES)
    # Fields added later are picked up without a list to maintain; these were once missed.
    assert {"PA_LLM_TIMEOUT", "PA_LLM_MAX_RETRIES", "PA_SESSION_RETENTION_DAYS"} <= names
    assert {"PA_DATABASE_URL", "DATABASE_URL", "PA_LLM_API_KEY", "OPENAI_API_KEY"} <= names
    assert len(names) == len(state.SETTING_NAMES) >= len(Settings.model_fields)


def test_user_messages_are_one_line_without_database_internals():
    driver = StorageError(
        "The database is not available: (psycopg2.OperationalError) connection to server at "
        '"127.0.0.1", port 5999 failed: Connection refused\nIs the server running?'
    )
    for exc in (driver, MigrationError("alembic: could not connect to 10.0.0.7:5432")):
        text = state.user_message(exc)
        assert "\n" not in text and "127.0.0.1" not in text and "5999" not in text
        assert "psycopg2" not in text and "10.0.0.7" not in text and "database" in text
    assert state.user_message(ValidationError("Title too long.\nmore")) == "Title too long."
