"""Fixtures for the real-browser suite: a real `streamlit run app.py` and Debian's Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_helpers import CHROMIUM, CHROMIUM_ARGS, PASSWORDS, StreamlitServer, app_env

from pa_core import auth


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium through Playwright (never `playwright install`)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing (CI installs Debian's chromium package)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def pg_app(pg_databases, tmp_path_factory):
    """A migrated PostgreSQL database, an auth YAML with alice (admin) and bob, and the server."""
    url = pg_databases.migrated()
    tmp = tmp_path_factory.mktemp("browser")
    auth_path = tmp / "auth.yaml"
    auth.add_user(auth_path, "alice", PASSWORDS["alice"], name="Alice Admin", admin=True)
    auth.add_user(auth_path, "bob", PASSWORDS["bob"], name="Bob User")
    auth.add_user(
        auth_path, "Carol", PASSWORDS["carol"], name="Carol Mixed"
    )  # spelt with a capital
    server = StreamlitServer(app_env(url, auth_path), tmp / "streamlit.log").start()
    try:
        yield server, url
    finally:
        server.stop()
        pg_databases.drop(url)
