"""Entry point (`streamlit run app.py`): page config, login gate, navigation over pages/.

`streamlit run app.py` finds the `st.App` below and serves it, so its startup hook prints the
first-run setup code when the server starts; each browser session runs this file as its script.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:  # `ui` and `pa_core` import from the project root
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

import ui  # noqa: E402
from ui import startup, style  # noqa: E402


def main() -> None:
    """One script run: configuration, login, then the requested page."""
    st.set_page_config(page_title="Personal Assistant", page_icon="💬", layout="wide")
    style.inject()
    ui.remember_requested_query()
    if ui.settings().auth_mode == "oidc":  # single sign-on through st.login (ui/oidc.py)
        oidc.run_app(ui.app_pages())
        return
    ctx = login.open_login_context()
    if not ctx.has_users:
        ui.run_page(st.navigation(ui.setup_pages(), position="hidden"))
        return
    pages = ui.app_pages()
    user = login.logged_in_user(ctx, pages)
    if user is None:
        return  # the login form is shown
    nav = st.navigation(ui.app_pages(user))  # Admin only for admins
    ui.restore_requested_query()
    login.account_sidebar(ctx, user)
    ui.run_page(nav)


if __name__ == "__main__":  # a script run of a browser session
    # Imported here, not above: the server imports this module once before its runtime exists,
    # and streamlit-authenticator's cookie component must be declared inside the runtime.
    from ui import login, oidc

    main()
else:  # imported once by `streamlit run app.py`, which serves this st.App (its startup hook)
    app = st.App(str(ROOT / "app.py"), lifespan=startup.lifespan)
