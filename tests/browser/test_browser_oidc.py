"""Single sign-on in a real browser: a real `streamlit run` (PA_AUTH_MODE=oidc) and a real
OpenID provider (oidc-provider-mock) on loopback, through Streamlit's own st.login."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request

import pytest
from browser_helpers import (
    CHAT_INPUT,
    StreamlitServer,
    app_env,
    login,
    screenshot,
    send,
    wait_idle,
)
from playwright.sync_api import expect

import pa_core
from pa_core import auth
from pa_core.db import create_db_engine
from support.pg_cluster import free_port

pytestmark = pytest.mark.slow
ADMIN_GROUP = "pa-admins"
COOKIE_SECRET = "oidc-browser-test-cookie-secret-" + "q" * 16
USERS = {
    "u-1001": {
        "preferred_username": "dana",
        "email": "dana@example.com",
        "email_verified": True,
        "name": "Dana Admin",
        "groups": [ADMIN_GROUP, "staff"],
    },
    "u-1002": {"email": "Erik@Example.com", "name": "Erik User", "groups": ["staff"]},
}
LOGIN_BUTTON = "Log in with Example SSO"


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    """oidc-provider-mock as its own process on 127.0.0.1 (any client id and secret)."""
    port = free_port()
    log = tmp_path_factory.mktemp("oidc") / "provider.log"
    claims = [
        arg for sub, c in USERS.items() for arg in ("--user-claims", json.dumps(c | {"sub": sub}))
    ]
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "oidc_provider_mock",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                *claims,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(base + "/.well-known/openid-configuration", timeout=2):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"oidc-provider-mock did not start:\n{log.read_text()}")
            time.sleep(0.2)
    yield base
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def oidc_app(provider, pg_databases, tmp_path_factory):
    """The app in OIDC mode on a migrated PostgreSQL database, its secrets.toml naming the
    provider; (server, database URL)."""
    url = pg_databases.migrated()
    tmp = tmp_path_factory.mktemp("oidc-app")
    env = app_env(url, tmp / "auth.yaml")  # no YAML users: single sign-on only
    secrets = tmp / "secrets.toml"
    env.update(
        PA_AUTH_MODE="oidc",
        PA_OIDC_ADMIN_GROUP=ADMIN_GROUP,
        PA_OIDC_LABEL="Example SSO",
        STREAMLIT_SECRETS_FILES=str(secrets),
    )
    server = StreamlitServer(env, tmp / "streamlit.log")
    secrets.write_text(
        "[auth]\n"
        f'redirect_uri = "{server.url}/oauth2callback"\n'
        f'cookie_secret = "{COOKIE_SECRET}"\n'
        'client_id = "personal-assistant"\n'
        'client_secret = "personal-assistant-secret"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n'
    )
    server.start()
    try:
        yield server, url
    finally:
        server.stop()
        pg_databases.drop(url)


def _user_row(url: str, username: str):
    engine = create_db_engine(url)
    try:
        return pa_core.ConversationService(engine).get_user(username)
    finally:
        engine.dispose()


def _log_in(page, base: str, sub: str) -> None:
    """From the app's login button through the provider's form back into the app."""
    page.goto(base)
    page.get_by_role("button", name=LOGIN_BUTTON).click()
    page.get_by_placeholder("sub").fill(sub)  # the provider's authorize form
    page.get_by_role("button", name="Authorize").click()
    expect(page.get_by_placeholder(CHAT_INPUT)).to_be_visible()  # back in the app, logged in
    wait_idle(page)


def test_sso_login_creates_the_user_with_the_admin_role_and_logout_ends_it(browser, oidc_app):
    server, url = oidc_app
    context = browser.new_context()
    page = context.new_page()
    page.goto(server.url)
    expect(page.get_by_role("button", name=LOGIN_BUTTON)).to_be_visible()
    wait_idle(page)
    screenshot(page, "oidc-01-login")
    _log_in(page, server.url, "u-1001")
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text("Dana Admin")).to_be_visible()
    expect(sidebar.get_by_text("@dana")).to_be_visible()
    expect(sidebar.get_by_text("· admin")).to_be_visible()
    send(page, "What is 6 * 7?", "42")
    screenshot(page, "oidc-02-chat-as-admin")

    user = _user_row(url, "dana")
    assert (user.role, user.email, user.display_name) == ("admin", "dana@example.com", "Dana Admin")
    cookies = {c["name"]: c for c in context.cookies()}
    login_cookie = cookies["_streamlit_user"]
    assert login_cookie["httpOnly"] is True and login_cookie["sameSite"] == "Lax"
    assert login_cookie["expires"] > time.time() + 29 * 86_400  # Streamlit's 30 days
    assert page.evaluate("document.cookie").find("_streamlit_user") == -1  # JS cannot read it

    sidebar.get_by_role("button", name="Log out").click()
    page.get_by_role("button", name="End session").click()  # the provider's logout form
    expect(page.get_by_role("button", name=LOGIN_BUTTON)).to_be_visible()
    assert not [c for c in context.cookies() if c["name"].startswith("_streamlit_user")]
    page.goto(server.url)  # a reload after logout stays logged out
    expect(page.get_by_role("button", name=LOGIN_BUTTON)).to_be_visible()
    expect(page.get_by_test_id("stChatInput")).to_have_count(0)
    screenshot(page, "oidc-03-logged-out")
    context.close()


def test_a_user_outside_the_admin_group_is_a_plain_user(browser, oidc_app):
    server, url = oidc_app
    context = browser.new_context()
    page = context.new_page()
    _log_in(page, server.url, "u-1002")
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text("Erik User")).to_be_visible()
    expect(sidebar.get_by_text("@erik@example.com", exact=True)).to_be_visible()
    expect(sidebar.get_by_role("link", name="erik@example.com")).to_have_count(0)
    expect(sidebar.get_by_text("admin")).to_have_count(0)
    send(page, "hello from erik", "hello")
    screenshot(page, "oidc-04-chat-as-user")
    user = _user_row(url, "erik@example.com")
    assert user.role == "user"
    page.reload()  # the HttpOnly cookie keeps the login across a reload
    expect(sidebar.get_by_text("Erik User")).to_be_visible()
    context.close()


def test_the_yaml_login_cookie_is_set_by_script_and_strict(browser, pg_app):
    """For comparison (docs/SECURITY.md): the YAML login's cookie, written by the page's JS."""
    server, _url = pg_app
    context = browser.new_context()
    page = context.new_page()
    login(page, server.url, "bob")
    expect(page.get_by_test_id("stSidebar").get_by_text("Bob User")).to_be_visible()
    cookie = next(c for c in context.cookies() if c["name"] == auth.COOKIE_NAME)
    assert cookie["httpOnly"] is False and cookie["sameSite"] == "Strict"
    assert auth.COOKIE_NAME in page.evaluate("document.cookie")  # script can read it
    context.close()
