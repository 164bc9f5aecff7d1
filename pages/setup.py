"""First run: create the first administrator (only while the auth config has no user)."""

from __future__ import annotations

import streamlit as st

import ui
from pa_core import PAError, auth

config_path = ui.require_first_run()

st.title("Welcome to Personal Assistant")
st.write(
    "No account exists yet. Create the first administrator; you will log in with it right "
    "after. Further accounts: `python -m pa_core user add NAME [--admin]`."
)

code, created = auth.ensure_setup_code(config_path)
if created:  # printed at server start already, unless the file was removed since
    auth.print_setup_code(config_path, code)
st.info(
    "For safety, enter the **setup code** printed in the terminal where you started "
    f"`streamlit run app.py` (it is also stored in `{auth.setup_code_path(config_path)}`).",
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
        st.session_state[ui.FLASH_KEY] = "An account exists already; please log in."
        st.rerun()  # app.py now shows the login form, with this note
    elif not auth.check_setup_code(config_path, entered):
        st.error("That setup code is not right. Look for it in the terminal running the app.")
    elif password != repeat:
        st.error("The two passwords differ.")
    else:
        try:
            auth.add_user(
                config_path, username.strip(), password, name=name.strip() or None, admin=True
            )
            auth.sync_user(ui.service(), auth.load_auth_config(config_path), username.strip())
        except PAError as exc:
            st.error(str(exc))
        else:
            auth.remove_setup_code(config_path)
            st.session_state[ui.FLASH_KEY] = f"Administrator {username.strip()!r} created. Log in."
            st.rerun()
