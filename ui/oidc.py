"""The login gate of PA_AUTH_MODE=oidc: Streamlit's own st.login / st.user / st.logout.

The provider is configured in `.streamlit/secrets.toml` under `[auth]` (docs/SECURITY.md).
Streamlit runs the whole OpenID Connect flow on its server and keeps the verified ID token's
claims in its own signed, HttpOnly cookie; this module maps those claims to a user row once
per browser session, through pa_core.auth.
"""

from __future__ import annotations

import logging

import streamlit as st

from pa_core import PAError, UserRecord, auth
from ui import guard, state
from ui.format import md_text

logger = logging.getLogger(__name__)


def run_app(pages: list[st.Page]) -> None:
    """One script run in OIDC mode: the login button, or the chosen page for the user."""
    user = logged_in_user(pages)
    if user is None:
        return  # the login button is shown
    nav = st.navigation(guard.app_pages(user))  # Admin only for admins
    guard.restore_requested_query()
    account_sidebar(user)
    guard.run_page(nav)


def logged_in_user(pages: list[st.Page]) -> UserRecord | None:
    """The user of the ID token Streamlit holds, or None after drawing the login button."""
    if not st.user.get("is_logged_in"):  # (absent, not False, where no login ran)
        state.set_current_user(None)
        st.navigation(pages, position="hidden")  # a refresh keeps its path and query params
        _login_button()
        return None
    return _synced_user(st.user.to_dict())


def _login_button() -> None:
    """The page a visitor sees before login: one button that starts st.login()."""
    settings = state.settings()
    st.title("Personal Assistant")
    st.caption("Sign in with your organisation's account.")
    if st.button(f"Log in with {settings.oidc_label}", key="pa-oidc-login", type="primary"):
        try:
            st.login()
        except st.errors.StreamlitAuthError as exc:  # no [auth] in secrets.toml, or no Authlib
            logger.error("Single sign-on is not set up: %s", exc)
            st.error(
                "Single sign-on is not set up on this server: the administrator needs to add "
                "the provider to `.streamlit/secrets.toml` (`[auth]`, docs/SECURITY.md).",
                icon=":material/error:",
            )


def _synced_user(claims: dict) -> UserRecord:
    """The user row for these claims, created or updated once per browser session."""
    user = state.current_user()
    try:
        name = auth.oidc_username(claims)
        if user is None or user.username != name:
            settings = state.settings()
            user = auth.sync_oidc_user(
                state.service(),
                claims,
                admin_group=settings.oidc_admin_group,
                group_claim=settings.oidc_group_claim,
            )
        else:
            user = state.still_active(state.service(), user)
        state.set_current_user(user)
    except PAError as exc:
        logger.warning("Could not open the account of an OIDC login: %s", exc)
        st.error(f"Could not open your account: {state.user_message(exc)}")
        if st.button("Log out", key="pa-oidc-logout-failed"):
            st.logout()
        st.stop()
    return user


def account_sidebar(user: UserRecord) -> None:
    """The sidebar's account box: who is logged in, and the Log out button."""
    with st.sidebar:
        st.markdown(f"**{md_text(user.display_name or user.username)}**")
        handle = user.username.replace("`", "'")  # a code span: e-mail names are no links
        st.caption(f"`@{handle}`" + (" · admin" if user.is_admin else ""))
        if st.button("Log out", key="pa-logout"):
            state.set_current_user(None)
            st.logout()
