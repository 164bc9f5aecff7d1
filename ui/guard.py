"""The pages of the app and the one-line guard each page starts with.

Streamlit runs a file of pages/ by URL without app.py while the process is in its
pages-directory mode (the first script run of a fresh server process; every AppTest run). The
guard notices that app.py did not run the page and runs app.py itself, in the same script run,
so the login gate, the navigation and the sidebar come first and the click that started the run
is kept; app.py's st.navigation also ends that mode for the process.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from pa_core import UserRecord
from ui import state

APP_SCRIPT = Path(__file__).resolve().parents[1] / "app.py"
GATED_KEY = "pa_gated_run"  # True while app.py runs the page it chose (after the login gate)


def app_pages(user: UserRecord | None = None) -> list[st.Page]:
    """The pages of the app, in navigation order (Chat is the default, at /).

    Admin is registered for admins only; without a user (the hidden navigation of the login
    form, which runs no page) it is kept so an admin's refresh of /admin stays there.
    """
    pages = [
        st.Page("pages/chat.py", title="Chat", icon=":material/chat:", default=True),
        st.Page("pages/sessions.py", title="Sessions", icon=":material/history:"),
        st.Page("pages/analytics.py", title="Analytics", icon=":material/monitoring:"),
    ]
    if user is None or user.is_admin:
        pages.append(
            st.Page("pages/admin.py", title="Admin", icon=":material/admin_panel_settings:")
        )
    return pages


def setup_pages() -> list[st.Page]:
    """The only page of an install without users: create the first administrator."""
    return [st.Page("pages/setup.py", title="Set up", icon=":material/key:", default=True)]


def run_page(page: st.Page) -> None:
    """Run the page st.navigation chose, marked as having passed app.py's login gate."""
    st.session_state[GATED_KEY] = True
    try:
        page.run()
    finally:
        st.session_state.pop(GATED_KEY, None)


def require_login() -> UserRecord:
    """The logged-in user; a page run without app.py is run through app.py's gate instead."""
    _through_app()
    user = state.current_user()
    if user is None:  # app.py runs pages only for a logged-in user
        st.stop()
    return user


def require_admin() -> UserRecord:
    """The logged-in admin; anyone else sees "Page not found" and nothing of the page."""
    user = require_login()
    if not user.is_admin:
        st.error("Page not found.", icon=":material/search_off:")
        st.stop()
    return user


def require_first_run() -> Path:
    """The auth config path, for the setup page; run through app.py like require_login."""
    _through_app()
    return Path(state.settings().auth_config)


def _through_app() -> None:
    """Return when app.py runs this page; else run app.py now and stop this copy of the page."""
    if st.session_state.get(GATED_KEY):
        return
    code = compile(APP_SCRIPT.read_bytes(), str(APP_SCRIPT), "exec")
    exec(
        code, {"__name__": "__main__", "__file__": str(APP_SCRIPT)}
    )  # the entry script, run as Streamlit would
    st.stop()


REQUESTED_KEY = "pa_requested_query"


def remember_requested_query() -> None:
    """Keep the query params the browser asked for before login can touch the URL (once)."""
    if REQUESTED_KEY not in st.session_state:  # streamlit-authenticator #179
        st.session_state[REQUESTED_KEY] = st.query_params.to_dict()


def restore_requested_query() -> None:
    """Put back query params the browser asked for if login dropped them (once per session)."""
    requested = st.session_state.pop(REQUESTED_KEY, None)
    if requested and not st.query_params.to_dict():
        st.query_params.from_dict(requested)
    st.session_state[REQUESTED_KEY] = {}
