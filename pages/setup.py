"""First run: create the first administrator (only while the auth config has no user)."""

from __future__ import annotations

import sys

import streamlit as st

from pa_core import PAError, auth, ui_support
from pages import common

settings = common.settings()
config_path = settings.auth_config
if auth.has_users(config_path):  # only reachable directly on a fresh process's first run
    common.bounce_to_app()
    st.stop()

st.title("Welcome to Personal Assistant")
st.write(
    "No account exists yet. Create the first administrator; you will log in with it right "
    "after. Further accounts: `python -m pa_core user add NAME [--admin]`."
)

code, created = ui_support.ensure_setup_code(config_path)
if created:
    # Printed where the server was started, so only whoever runs it can create the admin.
    print(
        f"\n  Personal Assistant first-run setup code: {code}\n"
        f"  (also stored in {ui_support.setup_code_path(config_path)})\n",
        file=sys.stderr,
        flush=True,
    )
st.info(
    "For safety, enter the **setup code** printed in the terminal where you started "
    f"`streamlit run app.py` (it is also stored in `{ui_support.setup_code_path(config_path)}`).",
    icon=":material/key:",
)

with st.form("pa-setup"):
    entered = st.text_input("Setup code", type="password")
    username = st.text_input("Username", placeholder="e.g. alice")
    name = st.text_input("Display name (optional)")
    password = st.text_input("Password (at least 8 characters)", type="password")
    repeat = st.text_input("Repeat password", type="password")
    submitted = st.form_submit_button("Create administrator", type="primary")

if submitted:
    if auth.has_users(config_path):
        st.session_state["pa_flash"] = "An account exists already; please log in."
        st.rerun()  # app.py now shows the login form, with this note
    elif not ui_support.check_setup_code(config_path, entered):
        st.error("That setup code is not right. Look for it in the terminal running the app.")
    elif password != repeat:
        st.error("The two passwords differ.")
    else:
        try:
            auth.add_user(
                config_path, username.strip(), password, name=name.strip() or None, admin=True
            )
            config = auth.load_auth_config(config_path)
            common.service().ensure_user(
                username.strip(), **auth.user_profile(config, username.strip())
            )
        except PAError as exc:
            st.error(str(exc))
        else:
            ui_support.remove_setup_code(config_path)
            st.session_state["pa_flash"] = f"Administrator {username.strip()!r} created. Log in."
            st.rerun()
