"""Helpers for the AppTest suite (imported by tests/app/conftest.py and the tests)."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

import pa_core
from pa_core import auth

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app.py"
COOKIE_KEY = "test-cookie-key-" + "x" * 32
PASSWORDS = {"alice": "alice-password", "bob": "bob-password"}


class AppEnv:
    """The environment one app test runs in: service, users and AppTest factories."""

    def __init__(self, url: str, auth_path: Path):
        self.url = url
        self.auth_path = auth_path
        self.svc = pa_core.ConversationService.from_url(url)
        config = auth.load_auth_config(auth_path)
        self.alice = self.svc.ensure_user("alice", **auth.user_profile(config, "alice"))
        self.bob = self.svc.ensure_user("bob", **auth.user_profile(config, "bob"))

    def app(self, *, username: str | None = "alice", query: dict | None = None) -> AppTest:
        """An AppTest of app.py; logged in as `username` by session-state injection."""
        at = AppTest.from_file(str(APP), default_timeout=60)
        if username:
            at.session_state["authentication_status"] = True
            at.session_state["username"] = username
        if query:
            at.query_params.update(query)
        return at

    def page(self, page: str, *, username: str = "alice", query: dict | None = None) -> AppTest:
        """A logged-in AppTest that has switched to pages/<page>.py and run."""
        at = self.app(username=username).run()
        at.switch_page(f"pages/{page}.py")
        if query:
            at.query_params.clear()
            at.query_params.update(query)
        return at.run()


def texts(at: AppTest) -> str:
    """Every markdown, caption, alert and title text of the last run, joined."""
    parts = []
    for kind in (
        "markdown",
        "caption",
        "title",
        "subheader",
        "info",
        "warning",
        "error",
        "success",
    ):
        parts.extend(str(e.value) for e in getattr(at, kind))
    return "\n".join(parts)


def assert_no_exception(at: AppTest) -> None:
    """The run raised nothing a user would see as a traceback."""
    assert not at.exception, [e.value for e in at.exception]


def free_port_url() -> str:
    """A PostgreSQL URL on a 127.0.0.1 port where nothing listens."""
    from support.pg_cluster import free_port

    return f"postgresql+psycopg2://postgres@127.0.0.1:{free_port()}/nothing"


def text_input(at: AppTest, label: str):
    """The page's text input labelled `label`."""
    return [t for t in at.text_input if t.label == label][0]


def submit_login(at: AppTest, username: str, password: str) -> AppTest:
    """Fill the login form and press Log in; the run that follows."""
    text_input(at, "Username").set_value(username)
    text_input(at, "Password").set_value(password)
    [b for b in at.button if b.label == "Log in"][0].click()
    return at.run()
