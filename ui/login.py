"""The login gate: the login cookie (checked by pa_core.auth), the login form, logout.

streamlit-authenticator draws the form and runs the browser-side cookie component; the cookie's
token is issued and checked by `pa_core.auth` (with its real issue time), so a cookie issued
before the user's last logout is refused server side.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import streamlit as st
import streamlit_authenticator as stauth
from streamlit_authenticator.utilities import LoginError

from pa_core import ConversationService, PAError, StorageError, UserRecord, auth
from pa_core.errors import UserDisabled
from ui import state

COOKIE_WAIT_S = 2.0  # longest wait for the cookie component before drawing the login form
COOKIE_WRITE_WAIT_S = 5.0  # longest wait for the browser to store (or delete) the login cookie
COOKIE_POLL_S = 0.25
STALE_SLOTS = 8  # empty elements drawn while waiting, over what the previous page showed
FIRST_RUN_KEY = "pa_first_run_at"
COOKIE_COMPONENT_KEY = "init"  # the key streamlit-authenticator's CookieManager uses
# A pending cookie write: ("set" | "delete", started). The action is also the key under which
# the CookieManager component reports (True) once the browser has run it.
COOKIE_PENDING_KEY = "pa_cookie_pending"
LOGIN_ERROR_KEY = "pa_login_refused"  # why the last login was refused (a disabled account)
logger = logging.getLogger(__name__)
THROTTLE = auth.LoginThrottle()  # counts live in the database: shared with the API and replicas


@dataclass(frozen=True)
class LoginContext:
    """What one script run's login needs: the service, the auth config and the cookie key."""

    service: ConversationService
    config: dict[str, Any]
    config_path: Path
    cookie_key: str

    @property
    def has_users(self) -> bool:
        """True once the auth config names at least one user."""
        return bool(self.config["credentials"]["usernames"])


def open_login_context() -> LoginContext:
    """Settings, service, auth config and cookie key; a readable error and a stop if one fails."""
    try:
        settings = state.settings()
        config = auth.load_auth_config(settings.auth_config)
        return LoginContext(
            service=state.service(),
            config=config,
            config_path=Path(settings.auth_config),
            cookie_key=auth.resolve_cookie_key(settings, config),
        )
    except PAError as exc:
        logger.exception("The app cannot start")
        st.error(f"The app cannot start: {state.user_message(exc)}", icon=":material/error:")
        st.stop()


def logged_in_user(ctx: LoginContext, pages: list[st.Page]) -> UserRecord | None:
    """The logged-in user, or None after drawing the login form (every page kept, hidden)."""
    if COOKIE_PENDING_KEY in st.session_state:
        st.navigation(pages, position="hidden")
        _finish_cookie_write(ctx)
    name = _session_username(ctx)
    if name is None:
        # Keep every page registered (hidden) so a refresh keeps its path and query params.
        st.navigation(pages, position="hidden")
        _login_form(ctx)
        return None
    return _synced_user(ctx, name)


def _session_username(ctx: LoginContext) -> str | None:
    """The config's spelling of the session's (or its cookie's) user; None when not logged in."""
    if not st.session_state.get("authentication_status"):
        _login_from_cookie(ctx)
    if not st.session_state.get("authentication_status"):
        return None
    name = auth.find_username(ctx.config, st.session_state.get("username"))
    if name is None:
        st.session_state["authentication_status"] = None  # removed from the config meanwhile
        state.set_current_user(None)
    return name


def _login_from_cookie(ctx: LoginContext) -> None:
    """Log in from the login cookie as sent with this page request, if pa_core.auth accepts it."""
    if st.session_state.get("logout"):
        return  # logged out in this browser session: the old cookie no longer counts
    name = auth.user_from_token(
        st.context.cookies.get(ctx.config["cookie"]["name"]),
        config=ctx.config,
        cookie_key=ctx.cookie_key,
        config_path=ctx.config_path,
    )
    if name is not None:
        _mark_logged_in(ctx, name)


def _mark_logged_in(ctx: LoginContext, name: str) -> None:
    """The session state streamlit-authenticator keeps for a logged-in user."""
    profile = auth.user_profile(ctx.config, name)
    st.session_state.update(
        authentication_status=True,
        username=name.casefold(),
        name=profile["display_name"],
        email=profile["email"],
        roles=(auth.user_entry(ctx.config, name) or {}).get("roles"),
    )


def _synced_user(ctx: LoginContext, name: str) -> UserRecord:
    """The user row for `name`, created or updated once per browser session, read again on
    every run so a disable or a role change counts at the next click."""
    user = state.current_user()
    try:
        if user is None or user.username != name:
            user = auth.sync_user(ctx.service, ctx.config, name)
        else:
            user = state.still_active(ctx.service, user)
    except UserDisabled as exc:
        st.session_state[LOGIN_ERROR_KEY] = str(exc)
        log_out(ctx)  # reruns into the login form, which shows why
    except StorageError:  # the database is down: the record this process knows will do
        user = _known_or_stop(name)
    except PAError as exc:
        logger.exception("Could not open the account of %s", name)
        st.error(f"Could not open your account: {state.user_message(exc)}")
        st.stop()
    state.set_current_user(user)
    return user


def _known_or_stop(name: str) -> UserRecord:
    """The user record synced earlier by this process, else a readable error and a stop."""
    user = state.known_user(name)
    if user is None:
        st.error(f"Could not open your account: {state.user_message(StorageError(name))}")
        st.stop()
    return user


def _authenticator(ctx: LoginContext) -> stauth.Authenticate:
    """streamlit-authenticator over the YAML's users; built only for login and logout runs.

    Building it mounts its cookie component, which reruns the script once when it first
    reports; a logged-in session never builds it, so no rerun interrupts the user's clicks.
    Its expiry is 0 so that it never writes a cookie of its own: _set_login_cookie does.
    """
    return stauth.Authenticate(
        _hashed_credentials(ctx.config),
        ctx.config["cookie"]["name"],
        ctx.cookie_key,
        0,
        auto_hash=False,
        login_sleep_time=0,
    )


def _hashed_credentials(config: dict[str, Any]) -> dict[str, Any]:
    """The credentials for the authenticator: case-folded names, bcrypt hashes only."""
    users = {}
    for name, entry in config["credentials"]["usernames"].items():
        entry = dict(entry or {})
        if auth.is_password_hash(entry.get("password")):  # plain text never logs in
            users[str(name).casefold()] = entry
    return {"usernames": users}


def log_out(ctx: LoginContext) -> None:
    """Log out, then delete the login cookie in the browser before showing the login form.

    The logout time is recorded too, so a cookie the browser kept anyway no longer logs in.
    The URL's query (the open chat) is cleared: the next user starts on a fresh chat.
    """
    # If nothing can be written beside the config, the cookie deletion below still logs out.
    with contextlib.suppress(OSError):
        auth.record_logout(ctx.config_path, st.session_state["username"])
    _authenticator(ctx).logout(location="unrendered")
    state.set_current_user(None)
    st.query_params.clear()
    _start_cookie_write("delete")


def _start_cookie_write(action: str) -> None:
    """Rerun into _finish_cookie_write, which keeps the cookie component up until it reports."""
    st.session_state.pop(action, None)  # a report left from an earlier write does not count
    st.session_state[COOKIE_PENDING_KEY] = (action, time.monotonic())
    st.rerun()


def _finish_cookie_write(ctx: LoginContext) -> None:
    """Render the set/delete cookie component on every run until the browser reports it done.

    The component only acts once its iframe has loaded; a rerun that drops it earlier would
    leave the cookie as it was (a logout undone by the next reload). Each run draws the same
    elements, so the iframe survives the polling reruns; the wait is bounded for browsers that
    never run it.
    """
    action, started = st.session_state[COOKIE_PENDING_KEY]
    authenticator = _authenticator(ctx)
    st.title("Personal Assistant")
    st.caption("Signing in…" if action == "set" else "Signing out…")
    if action == "set":
        _set_login_cookie(ctx, authenticator)
    else:
        authenticator.cookie_controller.delete_cookie()
    if not st.session_state.get(action) and time.monotonic() - started < COOKIE_WRITE_WAIT_S:
        time.sleep(COOKIE_POLL_S)
        st.rerun()
    del st.session_state[COOKIE_PENDING_KEY]
    st.rerun()


def _set_login_cookie(ctx: LoginContext, authenticator: stauth.Authenticate) -> None:
    """Write the login cookie (token by pa_core.auth) through the authenticator's component."""
    days = float(ctx.config["cookie"]["expiry_days"])
    issued = time.time()
    token = auth.issue_login_token(
        st.session_state["username"], cookie_key=ctx.cookie_key, expiry_days=days, now=issued
    )
    manager = authenticator.cookie_controller.cookie_model.cookie_manager
    expires = datetime.fromtimestamp(issued) + timedelta(days=days)
    manager.set(ctx.config["cookie"]["name"], token, key="set", expires_at=expires)


def _login_form(ctx: LoginContext) -> None:
    """The login form, drawn once the cookie component has reported (authenticator #184)."""
    st.title("Personal Assistant")
    authenticator = _authenticator(ctx)
    started = st.session_state.setdefault(FIRST_RUN_KEY, time.monotonic())
    reported = st.session_state.get(COOKIE_COMPONENT_KEY) is not None
    if not reported and time.monotonic() - started < COOKIE_WAIT_S:
        # The cookie component reruns the script when it first reports; a form submitted
        # before that would be lost, so draw the form only after it (or after a short wait).
        # These polling runs end early, so Streamlit would keep the page they replace (e.g.
        # the setup form just submitted) on screen, faded; empty slots overwrite its elements.
        for _ in range(STALE_SLOTS):
            st.empty()
        st.caption("Checking your sign-in…")
        time.sleep(COOKIE_POLL_S)
        st.rerun()
    if flash := st.session_state.pop(state.FLASH_KEY, None):
        st.success(flash)
    # The cookie was checked (and refused) by _login_from_cookie already; this flag makes the
    # authenticator skip its own check, which would hide the form behind "User not authorized"
    # when the browser still holds the cookie of a removed user.
    st.session_state["logout"] = True
    _throttle_password_checks(ctx, authenticator)
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
    _after_login_attempt()


def _throttle_password_checks(ctx: LoginContext, authenticator: stauth.Authenticate) -> None:
    """Every password check of the form is first claimed in the database throttle (per account
    and client address); while paused, the form says when to try again instead."""
    model = authenticator.authentication_controller.authentication_model
    check = model.check_credentials

    def throttled(username: str, password: str) -> bool:
        try:
            return THROTTLE.attempt(
                ctx.service, username, client_address(), lambda: bool(check(username, password))
            )
        except auth.TooManyFailedLogins as exc:
            raise LoginError(str(exc)) from None
        except PAError as exc:
            raise LoginError(f"Cannot log in right now: {state.user_message(exc)}") from None

    model.check_credentials = throttled


def client_address() -> str | None:
    """The browser's address for the throttle (X-Forwarded-For only with PA_TRUST_FORWARDED_FOR)."""
    return auth.throttle.client_address(
        st.context.ip_address,
        st.context.headers.get_all("X-Forwarded-For"),
        trust_forwarded=state.settings().trust_forwarded_for,
    )


def _after_login_attempt() -> None:
    """Store the cookie after a login, or say why the form is still there."""
    status = st.session_state.get("authentication_status")
    if status is not None:
        st.session_state.pop(LOGIN_ERROR_KEY, None)  # a new attempt: the old refusal is done
    if status:
        # Keep the cookie component up until the browser has stored the login cookie.
        _start_cookie_write("set")
    elif status is False:
        st.error("Username or password is incorrect.")
    elif refused := st.session_state.get(LOGIN_ERROR_KEY):
        st.error(refused, icon=":material/block:")  # a disabled account, until the next try
    else:
        st.caption("Ask your administrator for an account (`python -m pa_core user add NAME`).")


def account_sidebar(ctx: LoginContext, user: UserRecord) -> None:
    """The sidebar's account box: who is logged in, and the Log out button."""
    with st.sidebar:
        st.markdown(f"**{user.display_name or user.username}**")
        st.caption(f"@{user.username}" + (" · admin" if user.is_admin else ""))
        if st.button("Log out", key="pa-logout"):
            log_out(ctx)
