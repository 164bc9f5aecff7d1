"""A fresh machine: no auth config, SQLite; the first visitor needs the server's setup code."""

from __future__ import annotations

import stat

import pytest
from browser_helpers import StreamlitServer, app_env, screenshot
from playwright.sync_api import expect

from pa_core import auth

pytestmark = pytest.mark.browser
TIMEOUT_MS = 30_000
expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="module")
def fresh_server(tmp_path_factory):
    """`streamlit run app.py` with an empty SQLite file and no auth config at all."""
    tmp = tmp_path_factory.mktemp("fresh")
    auth_path = tmp / "conf" / "auth.yaml"
    env = app_env(f"sqlite:///{tmp / 'fresh.db'}", auth_path)
    env.pop("PA_COOKIE_KEY")  # the key is generated and stored beside the config
    server = StreamlitServer(env, tmp / "streamlit.log").start()
    try:
        yield server, auth_path
    finally:
        server.stop()


STALE_WATCH = """() => {
    window.__paStaleSeen = 0;
    new MutationObserver(() => {
        const waiting = document.body.innerText.includes("Checking your sign-in");
        const stale = [...document.querySelectorAll("[data-stale='true']")]
            .some(e => e.innerText.includes("Setup code"));
        if (waiting && stale) window.__paStaleSeen += 1;
    }).observe(document.body, {subtree: true, childList: true, attributes: true});
}"""


def test_the_setup_code_is_printed_when_the_server_starts(tmp_path):
    auth_path = tmp_path / "conf" / "auth.yaml"
    env = app_env(f"sqlite:///{tmp_path / 'start.db'}", auth_path)
    server = StreamlitServer(env, tmp_path / "streamlit.log").start(wait_healthy=False)
    try:
        # No HTTP request at all: the code is there as soon as the server has started.
        log = server.wait_for_log("first-run setup code:")
        code_file = auth.setup_code_path(auth_path)
        code = code_file.read_text().strip()
        assert code and code in log
        assert stat.S_IMODE(code_file.stat().st_mode) == 0o600
    finally:
        server.stop()
    # A restart while there is still no user prints the same code again.
    server = StreamlitServer(env, tmp_path / "again.log").start(wait_healthy=False)
    try:
        assert code in server.wait_for_log("first-run setup code:")
    finally:
        server.stop()


def test_first_admin_then_chat(browser, fresh_server):
    server, auth_path = fresh_server
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        page.goto(server.url + "/")
        expect(page.get_by_role("heading", name="Welcome to Personal Assistant")).to_be_visible()
        code_file = auth.setup_code_path(auth_path)
        assert code_file.exists()
        code = code_file.read_text().strip()
        assert code in server.log_tail(200)  # printed where the server was started
        expect(page.get_by_role("textbox", name="Setup code")).to_be_visible()
        screenshot(page, "00-first-run-setup")

        def fill(code_value: str) -> None:
            page.get_by_role("textbox", name="Setup code").fill(code_value)
            page.get_by_role("textbox", name="Username", exact=True).fill("owner")
            page.get_by_role("textbox", name="Password (at least 8 characters)").fill("owner-pw-1")
            page.get_by_role("textbox", name="Repeat password").fill("owner-pw-1")
            page.get_by_role("button", name="Create administrator").click()

        fill("guessed-code")
        expect(page.get_by_text("That setup code is not right.")).to_be_visible()
        assert not auth.has_users(auth_path)

        # Watch for the setup form left faded (stale) under "Checking your sign-in…".
        page.evaluate(STALE_WATCH)
        fill(code)
        expect(page.get_by_text("Administrator 'owner' created. Log in.")).to_be_visible()
        assert page.evaluate("window.__paStaleSeen") == 0, "setup form left faded"
        expect(page.get_by_role("textbox", name="Setup code")).to_have_count(0)
        assert auth.has_users(auth_path) and not code_file.exists()
        assert (auth_path.parent / auth.COOKIE_KEY_FILE).exists()
        page.get_by_role("textbox", name="Username", exact=True).fill("owner")
        page.get_by_role("textbox", name="Password", exact=True).fill("owner-pw-1")
        page.get_by_role("button", name="Log in").click()
        box = page.get_by_placeholder("Message the assistant")
        expect(box).to_be_visible()
        box.fill("What is 6 * 7?")
        box.press("Enter")
        expect(page.get_by_test_id("stChatMessage").filter(has_text="42").last).to_be_visible()
        expect(page.get_by_text("tools: calculator")).to_be_visible()
        screenshot(page, "00-first-run-chat")

        # A second visitor gets a login form, not the setup form.
        other = browser.new_context().new_page()
        other.goto(server.url + "/")
        expect(other.get_by_role("button", name="Log in")).to_be_visible(timeout=TIMEOUT_MS)
        expect(other.get_by_role("textbox", name="Setup code")).to_have_count(0)
        screenshot(other, "00-login")
        other.context.close()
    finally:
        context.close()
