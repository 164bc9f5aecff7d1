"""Streamlit-side helpers shared by app.py and the pages (not a page itself)."""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st
from pydantic import AliasChoices

import pa_core
from pa_core import ConversationService, Settings, UserRecord, auth


def setting_names() -> tuple[str, ...]:
    """Every environment name a Settings field reads (all choices of an AliasChoices)."""
    names: list[str] = []
    for field, info in Settings.model_fields.items():
        alias = info.validation_alias
        choices = alias.choices if isinstance(alias, AliasChoices) else [alias or field]
        names.extend(c.upper() for c in choices if isinstance(c, str))
    return tuple(dict.fromkeys(names))


SETTING_NAMES = setting_names()
USER_KEY = "pa_user"
SETTINGS_KEY = "pa_settings"  # this run's Settings, set by app.py


def copy_secrets_to_env() -> None:
    """Copy Streamlit secrets named like our settings into os.environ (the environment wins)."""
    try:
        if not st.secrets.load_if_toml_exists():
            return
        items = st.secrets.to_dict()
    except (FileNotFoundError, st.errors.StreamlitSecretNotFoundError):
        return  # no secrets.toml: settings come from the environment alone
    for name in SETTING_NAMES:
        value = items.get(name)
        if value is not None and not isinstance(value, dict) and name not in os.environ:
            os.environ[name] = str(value)


def load_settings() -> Settings:
    """Settings read from the environment; app.py calls this once at the start of every run."""
    st.session_state[SETTINGS_KEY] = loaded = pa_core.get_settings()
    return loaded


def settings() -> Settings:
    """This run's settings (read by app.py at its start; read here if a page runs alone)."""
    return st.session_state.get(SETTINGS_KEY) or load_settings()


def auth_config(path: Path | str) -> dict:
    """The auth YAML, parsed again only when its modification time or size changed."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return auth.load_auth_config(path)
    return _auth_config(str(path), stat.st_mtime_ns, stat.st_size)


@st.cache_data(max_entries=8, show_spinner=False)
def _auth_config(path: str, mtime_ns: int, size: int) -> dict:
    """load_auth_config, cached by (path, mtime, size); each caller gets its own copy."""
    return auth.load_auth_config(path)


@st.cache_resource(show_spinner="Preparing the database…")
def get_service(url: str) -> ConversationService:
    """One migrated database and one service per process and URL."""
    pa_core.migrate(url)
    return ConversationService.from_url(url)


def service(run_settings: Settings | None = None) -> ConversationService:
    """The service for the configured database."""
    return get_service((run_settings or settings()).resolved_database_url)


def current_user() -> UserRecord:
    """The logged-in user's record; app.py guarantees it before any page runs."""
    user = st.session_state.get(USER_KEY)
    if user is not None:
        return user
    bounce_to_app()
    st.error("Please log in first.")
    st.stop()


def bounce_to_app() -> None:
    """Rerun through app.py when a page was run without it (once per browser session).

    Because this project keeps its pages in `pages/`, the very first script run of a fresh
    server process uses Streamlit's pages-directory mode, which runs a page named by the URL
    (e.g. /sessions) directly, before app.py could call st.navigation. Every later run goes
    through app.py, so one rerun puts the login gate back in front of the page.
    """
    if not st.session_state.get("pa_bounced"):
        st.session_state["pa_bounced"] = True
        # st.navigation switches the process out of pages-directory mode (its documented side
        # effect), so the rerun goes through app.py and resolves the same URL to the same page.
        st.navigation(app_pages(), position="hidden")
        st.rerun()


def app_pages() -> list[st.Page]:
    """The pages of the app, in navigation order (Chat is the default, at /)."""
    return [
        st.Page("pages/chat.py", title="Chat", icon=":material/chat:", default=True),
        st.Page("pages/sessions.py", title="Sessions", icon=":material/history:"),
        st.Page("pages/analytics.py", title="Analytics", icon=":material/monitoring:"),
    ]


def show_error(exc: Exception, what: str) -> None:
    """A readable error box for a failed action (never a traceback)."""
    st.error(f"{what}: {exc}", icon=":material/error:")
