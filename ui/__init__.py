"""Streamlit-side helpers of the app: state, the page guard; ui.login is the login gate.

ui.login (streamlit-authenticator) is imported by app.py's script runs only: the server imports
app.py once before its runtime exists, and the authenticator's cookie component must be
declared inside the runtime.
"""

from ui.guard import (
    app_pages,
    remember_requested_query,
    require_admin,
    require_first_run,
    require_login,
    restore_requested_query,
    run_page,
    setup_pages,
)
from ui.state import FLASH_KEY, current_user, service, settings, show_error, user_message

__all__ = [
    "FLASH_KEY",
    "app_pages",
    "current_user",
    "remember_requested_query",
    "require_admin",
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
