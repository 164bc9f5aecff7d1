"""Streamlit-side helpers of the app: state, the login gate, the page guard, formatting."""

from ui.guard import (
    app_pages,
    remember_requested_query,
    require_first_run,
    require_login,
    restore_requested_query,
    run_page,
    setup_pages,
)
from ui.login import LoginContext, account_sidebar, log_out, logged_in_user, open_login_context
from ui.state import FLASH_KEY, current_user, service, settings, show_error, user_message

__all__ = [
    "FLASH_KEY",
    "LoginContext",
    "account_sidebar",
    "app_pages",
    "current_user",
    "log_out",
    "logged_in_user",
    "open_login_context",
    "remember_requested_query",
    "require_first_run",
    "require_login",
    "restore_requested_query",
    "run_page",
    "service",
    "settings",
    "setup_pages",
    "show_error",
    "user_message",
]
