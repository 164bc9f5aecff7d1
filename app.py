"""Entry point (`streamlit run app.py`): page config, login gate, navigation over pages/."""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:  # `pages.common` and `pa_core` import from the project root
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402
import streamlit_authenticator as stauth  # noqa: E402
from streamlit_authenticator.utilities import Hasher, LoginError  # noqa: E402

from pa_core import PAError, auth  # noqa: E402
from pages import common  # noqa: E402

COOKIE_WAIT_S = 2.0  # longest wait for the cookie component before drawing the login form
SIGN_IN_WAIT_S = 1.0  # time for the browser to store the login cookie before the first page
REQUESTED_KEY = "pa_requested_query"
FIRST_RUN_KEY = "pa_first_run_at"
FLASH_KEY = "pa_flash"
COOKIE_COMPONENT_KEY = "init"  # the key streamlit-authenticator's CookieManager uses


def main() -> None:
    """One script run: configuration, login, then the requested page."""
    st.set_page_config(page_title="Personal Assistant", page_icon="💬", layout="wide")
    common.copy_secrets_to_env()
    # Remember what the browser asked for before login can touch the URL (authenticator #179).
    if REQUESTED_KEY not in st.session_state:
        st.session_state[REQUESTED_KEY] = st.query_params.to_dict()
    settings = common.settings()
    try:
        common.service()
        config = auth.load_auth_config(settings.auth_config)
        cookie_key = auth.resolve_cookie_key(settings, config)
    except PAError as exc:
        st.error(f"The app cannot start: {exc}", icon=":material/error:")
        st.stop()
    if not config["credentials"]["usernames"]:
        st.navigation([st.Page("pages/setup.py", title="Set up")], position="hidden").run()
        return

    authenticator = stauth.Authenticate(
        _hashed_credentials(config),
        config["cookie"]["name"],
        cookie_key,
        float(config["cookie"]["expiry_days"]),
        auto_hash=False,
        login_sleep_time=0,
    )
    pages = common.app_pages()
    if not _authenticated(authenticator, config):
        # Keep every page registered (hidden) so a refresh keeps its path and query params.
        st.navigation(pages, position="hidden")
        _login_form(authenticator, config)
        return
    user = _ensure_user(config)
    nav = st.navigation(pages)
    _restore_requested_query()
    with st.sidebar:
        st.markdown(f"**{user.display_name or user.username}**")
        st.caption(f"@{user.username}" + (" · admin" if user.is_admin else ""))
        authenticator.logout("Log out", location="sidebar", key="pa-logout")
    if not st.session_state.get("authentication_status"):
        st.session_state.pop(common.USER_KEY, None)
        st.rerun()
    nav.run()


def _hashed_credentials(config: dict) -> dict:
    """The credentials for the authenticator: lower-case names, bcrypt hashes only."""
    users = {}
    for name, entry in config["credentials"]["usernames"].items():
        entry = dict(entry or {})
        if isinstance(entry.get("password"), str) and Hasher.is_hash(entry["password"]):
            users[str(name).lower()] = entry  # plain-text passwords are never accepted
    return {"usernames": users}


def _config_name(config: dict, username: str | None) -> str | None:
    """The config's spelling of `username` (the authenticator lower-cases names)."""
    if not username:
        return None
    for name in config["credentials"]["usernames"]:
        if str(name).lower() == username.lower():
            return str(name)
    return None


def _authenticated(authenticator: stauth.Authenticate, config: dict) -> bool:
    """True when the session (or its login cookie) belongs to a user of the config."""
    if not st.session_state.get("authentication_status"):
        try:
            authenticator.login(location="unrendered")  # restores the session from the cookie
        except LoginError:
            st.session_state["authentication_status"] = None  # cookie of a removed user
    if not st.session_state.get("authentication_status"):
        return False
    if _config_name(config, st.session_state.get("username")) is None:
        st.session_state["authentication_status"] = None  # removed from the config meanwhile
        st.session_state.pop(common.USER_KEY, None)
        return False
    return True


def _ensure_user(config: dict):
    """The user row for the logged-in name, created or updated once per browser session."""
    name = _config_name(config, st.session_state["username"])
    user = st.session_state.get(common.USER_KEY)
    if user is None or user.username != name:
        profile = auth.user_profile(config, name)
        try:
            user = common.service().ensure_user(name, **profile)
        except PAError as exc:
            st.error(f"Could not open your account: {exc}", icon=":material/error:")
            st.stop()
        st.session_state[common.USER_KEY] = user
    return user


def _login_form(authenticator: stauth.Authenticate, config: dict) -> None:
    """The login form, drawn once the cookie component has reported (authenticator #184)."""
    st.title("Personal Assistant")
    started = st.session_state.setdefault(FIRST_RUN_KEY, time.monotonic())
    reported = st.session_state.get(COOKIE_COMPONENT_KEY) is not None
    if not reported and time.monotonic() - started < COOKIE_WAIT_S:
        # The cookie component reruns the script when it first reports; a form submitted
        # before that would be lost, so draw the form only after it (or after a short wait).
        st.caption("Checking your sign-in…")
        time.sleep(0.25)
        st.rerun()
    if flash := st.session_state.pop(FLASH_KEY, None):
        st.success(flash)
    try:
        authenticator.login(
            location="main",
            key="pa-login",
            fields={"Form name": "Log in", "Login": "Log in"},
            max_login_attempts=None,
        )
    except LoginError as exc:
        st.error(str(exc))
        return
    status = st.session_state.get("authentication_status")
    if status:
        # The cookie component just rendered stores the login cookie in the browser; give it a
        # moment (it reruns the script itself once done) before the pages replace this form.
        with st.spinner("Signing in…"):
            time.sleep(SIGN_IN_WAIT_S)
        st.rerun()
    elif status is False:
        st.error("Username or password is incorrect.")
    else:
        st.caption("Ask your administrator for an account (`python -m pa_core user add NAME`).")


def _restore_requested_query() -> None:
    """Put back query params the browser asked for if login dropped them (once per session)."""
    requested = st.session_state.pop(REQUESTED_KEY, None)
    if requested and not st.query_params.to_dict():
        st.query_params.from_dict(requested)
    st.session_state[REQUESTED_KEY] = {}


main()
