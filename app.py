"""Entry point (`streamlit run app.py`): page config, login gate, navigation over pages/."""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:  # `pages.common` and `pa_core` import from the project root
    sys.path.insert(0, str(ROOT))

import jwt  # noqa: E402
import streamlit as st  # noqa: E402
import streamlit_authenticator as stauth  # noqa: E402
from streamlit_authenticator.utilities import Hasher, LoginError  # noqa: E402

from pa_core import ConversationService, PAError, auth  # noqa: E402
from pages import common  # noqa: E402

COOKIE_WAIT_S = 2.0  # longest wait for the cookie component before drawing the login form
COOKIE_WRITE_WAIT_S = 5.0  # longest wait for the browser to store (or delete) the login cookie
COOKIE_POLL_S = 0.25
REQUESTED_KEY = "pa_requested_query"
FIRST_RUN_KEY = "pa_first_run_at"
FLASH_KEY = "pa_flash"
COOKIE_COMPONENT_KEY = "init"  # the key streamlit-authenticator's CookieManager uses
# A pending cookie write: ("set" | "delete", started). The action is also the key under which
# the CookieManager component reports (True) once the browser has run it.
COOKIE_PENDING_KEY = "pa_cookie_pending"


def main() -> None:
    """One script run: configuration, login, then the requested page."""
    st.set_page_config(page_title="Personal Assistant", page_icon="💬", layout="wide")
    common.copy_secrets_to_env()
    # Remember what the browser asked for before login can touch the URL (authenticator #179).
    if REQUESTED_KEY not in st.session_state:
        st.session_state[REQUESTED_KEY] = st.query_params.to_dict()
    settings = common.load_settings()  # once per run; pages get it from common.settings()
    try:
        svc = common.service(settings)
        config = common.auth_config(settings.auth_config)
        cookie_key = auth.resolve_cookie_key(settings, config)
    except PAError as exc:
        st.error(f"The app cannot start: {exc}", icon=":material/error:")
        st.stop()
    if not config["credentials"]["usernames"]:
        st.navigation([st.Page("pages/setup.py", title="Set up")], position="hidden").run()
        return

    pages = common.app_pages()
    if COOKIE_PENDING_KEY in st.session_state:
        st.navigation(pages, position="hidden")
        _finish_cookie_write(_authenticator(config, cookie_key))
    if not _authenticated(config, cookie_key, settings.auth_config):
        # Keep every page registered (hidden) so a refresh keeps its path and query params.
        st.navigation(pages, position="hidden")
        _login_form(_authenticator(config, cookie_key))
        return
    user = _ensure_user(svc, config)
    nav = st.navigation(pages)
    _restore_requested_query()
    with st.sidebar:
        st.markdown(f"**{user.display_name or user.username}**")
        st.caption(f"@{user.username}" + (" · admin" if user.is_admin else ""))
        if st.button("Log out", key="pa-logout"):
            _logout(_authenticator(config, cookie_key), settings.auth_config)
    nav.run()


def _authenticator(config: dict, cookie_key: str) -> stauth.Authenticate:
    """streamlit-authenticator over the YAML's users; built only for login and logout runs.

    Building it mounts its cookie component, which reruns the script once when it first
    reports; a logged-in session never builds it, so no rerun interrupts the user's clicks.
    """
    return stauth.Authenticate(
        _hashed_credentials(config),
        config["cookie"]["name"],
        cookie_key,
        float(config["cookie"]["expiry_days"]),
        auto_hash=False,
        login_sleep_time=0,
    )


def _hashed_credentials(config: dict) -> dict:
    """The credentials for the authenticator: lower-case names, bcrypt hashes only."""
    users = {}
    for name, entry in config["credentials"]["usernames"].items():
        entry = dict(entry or {})
        if _has_bcrypt_hash(entry):
            users[str(name).lower()] = entry  # plain-text passwords are never accepted
    return {"usernames": users}


def _has_bcrypt_hash(entry: dict | None) -> bool:
    """True when a config user's password is a bcrypt hash (plain text never logs in)."""
    password = (entry or {}).get("password")
    return isinstance(password, str) and Hasher.is_hash(password)


def _config_name(config: dict, username: str | None) -> str | None:
    """The config's spelling of `username` (the authenticator lower-cases names)."""
    if not username:
        return None
    for name in config["credentials"]["usernames"]:
        if str(name).lower() == username.lower():
            return str(name)
    return None


def _authenticated(config: dict, cookie_key: str, config_path: Path | str) -> bool:
    """True when the session (or its login cookie) belongs to a user of the config."""
    if not st.session_state.get("authentication_status"):
        _login_from_cookie(config, cookie_key, config_path)
    if not st.session_state.get("authentication_status"):
        return False
    if _config_name(config, st.session_state.get("username")) is None:
        st.session_state["authentication_status"] = None  # removed from the config meanwhile
        st.session_state.pop(common.USER_KEY, None)
        return False
    return True


def _login_from_cookie(config: dict, cookie_key: str, config_path: Path | str) -> None:
    """Log in from streamlit-authenticator's cookie as sent with this page request.

    The same check as the authenticator's own (its HS256 JWT with `username` and `exp_date`,
    read from `st.context.cookies`), done without mounting its cookie component; in addition a
    cookie issued before the user's last logout is refused, even if the browser kept it.
    """
    if st.session_state.get("logout"):
        return  # logged out in this browser session: the old cookie no longer counts
    token = st.context.cookies.get(config["cookie"]["name"])
    if not isinstance(token, str) or not token:
        return
    try:
        payload = jwt.decode(token, cookie_key, algorithms=["HS256"])
    except jwt.PyJWTError:
        return  # signed with another key, or garbage: ignore it
    name = _config_name(config, payload.get("username"))
    expires = payload.get("exp_date")
    if name is None or not isinstance(expires, int | float) or expires <= time.time():
        return
    issued = expires - float(config["cookie"]["expiry_days"]) * 86_400
    logged_out = auth.last_logout(config_path, name)
    if logged_out is not None and issued <= logged_out:
        return  # issued before the last logout
    entry = config["credentials"]["usernames"][name]
    if not _has_bcrypt_hash(entry):
        return
    profile = auth.user_profile(config, name)
    st.session_state.update(
        authentication_status=True,
        username=name.lower(),
        name=profile["display_name"],
        email=profile["email"],
        roles=entry.get("roles"),
    )


def _logout(authenticator: stauth.Authenticate, config_path: Path | str) -> None:
    """Log out, then delete the login cookie in the browser before showing the login form.

    The logout time is recorded too, so a cookie the browser kept anyway no longer logs in.
    """
    # If nothing can be written beside the config, the cookie deletion below still logs out.
    with contextlib.suppress(OSError):
        auth.record_logout(config_path, st.session_state["username"])
    authenticator.logout(location="unrendered")
    st.session_state.pop(common.USER_KEY, None)
    _start_cookie_write("delete")


def _start_cookie_write(action: str) -> None:
    """Rerun into _finish_cookie_write, which keeps the cookie component up until it reports."""
    st.session_state.pop(action, None)  # a report left from an earlier write does not count
    st.session_state[COOKIE_PENDING_KEY] = (action, time.monotonic())
    st.rerun()


def _finish_cookie_write(authenticator: stauth.Authenticate) -> None:
    """Render the set/delete cookie component on every run until the browser reports it done.

    The component only acts once its iframe has loaded; a rerun that drops it earlier would
    leave the cookie as it was (a logout undone by the next reload). Each run draws the same
    elements, so the iframe survives the polling reruns; the wait is bounded for browsers that
    never run it.
    """
    action, started = st.session_state[COOKIE_PENDING_KEY]
    st.title("Personal Assistant")
    st.caption("Signing in…" if action == "set" else "Signing out…")
    if action == "set":
        authenticator.cookie_controller.set_cookie()
    else:
        authenticator.cookie_controller.delete_cookie()
    if not st.session_state.get(action) and time.monotonic() - started < COOKIE_WRITE_WAIT_S:
        time.sleep(COOKIE_POLL_S)
        st.rerun()
    del st.session_state[COOKIE_PENDING_KEY]
    st.rerun()


def _ensure_user(svc: ConversationService, config: dict):
    """The user row for the logged-in name, created or updated once per browser session."""
    name = _config_name(config, st.session_state["username"])
    user = st.session_state.get(common.USER_KEY)
    if user is None or user.username != name:
        profile = auth.user_profile(config, name)
        try:
            user = svc.ensure_user(name, **profile)
        except PAError as exc:
            st.error(f"Could not open your account: {exc}", icon=":material/error:")
            st.stop()
        st.session_state[common.USER_KEY] = user
    return user


def _login_form(authenticator: stauth.Authenticate) -> None:
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
    # The cookie was checked (and refused) by _login_from_cookie already; this flag makes the
    # authenticator skip its own check, which would hide the form behind "User not authorized"
    # when the browser still holds the cookie of a removed user.
    st.session_state["logout"] = True
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
        # Keep the cookie component up until the browser has stored the login cookie.
        _start_cookie_write("set")
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
