"""What a script run needs from the process: settings, the shared service, the user.

The service is one per process and database URL (`st.cache_resource`: it is thread-safe);
st.session_state holds the logged-in user's small record and ids, nothing heavier.
"""

from __future__ import annotations

import logging
import os

import streamlit as st
from pydantic import AliasChoices

import pa_core
from pa_core import ConversationService, MigrationError, Settings, StorageError, UserRecord, auth

USER_KEY = "pa_user"
FLASH_KEY = "pa_flash"
logger = logging.getLogger(__name__)
# The user records this process has synced, by username: a logged-in page opened while the
# database is down still knows its user (the Chat page then keeps messages on this server).
_known_users: dict[str, UserRecord] = {}


def setting_names() -> tuple[str, ...]:
    """Every environment name a Settings field reads (all choices of an AliasChoices)."""
    names: list[str] = []
    for field, info in Settings.model_fields.items():
        alias = info.validation_alias
        choices = alias.choices if isinstance(alias, AliasChoices) else [alias or field]
        names.extend(c.upper() for c in choices if isinstance(c, str))
    return tuple(dict.fromkeys(names))


SETTING_NAMES = setting_names()


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


def settings() -> Settings:
    """The process Settings (secrets copied into the environment first)."""
    copy_secrets_to_env()
    return pa_core.get_settings()


@st.cache_resource(show_spinner="Preparing the database…")
def _service_for(url: str) -> ConversationService:
    """One migrated database and one service per process and URL."""
    pa_core.migrate(url)
    return ConversationService.from_url(url)


def service() -> ConversationService:
    """The service for the configured database."""
    return _service_for(settings().resolved_database_url)


def current_user() -> UserRecord | None:
    """The logged-in user's record, as the login gate stored it (None before login)."""
    return st.session_state.get(USER_KEY)


def set_current_user(user: UserRecord | None) -> None:
    """Remember (or forget, with None) the logged-in user's record for this browser session."""
    if user is None:
        st.session_state.pop(USER_KEY, None)
    else:
        st.session_state[USER_KEY] = user
        _known_users[user.username] = user


def known_user(username: str) -> UserRecord | None:
    """The record this process last synced for `username` (None when it never did)."""
    return _known_users.get(username)


def show_error(exc: Exception, what: str) -> None:
    """One readable line for a failed action; the details go to the log, never to the page."""
    logger.warning("%s: %s", what, exc, exc_info=exc)
    st.error(f"{what}: {user_message(exc)}", icon=":material/error:")


def user_message(exc: Exception) -> str:
    """What a user reads about an error: one line, never a host, port or driver message."""
    if isinstance(exc, StorageError | MigrationError):
        return "the database is not available right now. Please try again in a moment."
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:300]


def still_active(svc: ConversationService, user: UserRecord) -> UserRecord:
    """The user's current row; the known record while the database is down (the chat page
    keeps working through an outage); UserDisabled when an administrator disabled them."""
    try:
        return auth.ensure_active(svc, user)
    except StorageError:
        return user
