"""Helpers for the real-browser suite: the Streamlit server process, page actions, screenshots."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import expect

from support.pg_cluster import free_port

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORDS = {"alice": "alice-browser-pw", "bob": "bob-browser-pw", "carol": "carol-browser-pw"}
COOKIE_KEY = "browser-test-cookie-key-" + "y" * 32
TIMEOUT_MS = 30_000
CHAT_INPUT = "Message the assistant"
expect.set_options(timeout=TIMEOUT_MS)  # a shared CI machine can be slow; waits end early anyway


class StreamlitServer:
    """`streamlit run app.py` on 127.0.0.1 in its own process group; restartable."""

    def __init__(self, env: dict[str, str], log_path: Path):
        self.env = env
        self.log_path = log_path
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60, *, wait_healthy: bool = True) -> StreamlitServer:
        """Start the server and (unless told not to) wait until its health endpoint answers."""
        log = open(self.log_path, "a", encoding="utf-8")  # noqa: SIM115 - closed by the child
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(ROOT / "app.py"),
                "--server.port",
                str(self.port),
                "--server.address",
                "127.0.0.1",
                "--server.headless",
                "true",
                "--browser.gatherUsageStats",
                "false",
                "--server.fileWatcherType",
                "none",
            ],  # fmt: skip
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        if not wait_healthy:
            return self
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited early:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url + "/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"streamlit did not become healthy:\n{self.log_tail()}")

    def stop(self) -> None:
        """Stop the whole process group (SIGTERM, then SIGKILL)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)

    def restart(self) -> None:
        """Stop and start again on the same port (the browser keeps its URL and cookie)."""
        self.stop()
        self.start()

    def wait_for_log(self, text: str, timeout: float = 60) -> str:
        """Wait (without any HTTP request) until the server's output contains `text`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            log = self.log_tail(400)
            if text in log:
                return log
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited early:\n{log}")
            time.sleep(0.1)
        raise RuntimeError(f"{text!r} not in the server output:\n{self.log_tail()}")

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text().splitlines()[-lines:])
        except OSError:
            return ""


def app_env(database_url: str, auth_path: Path) -> dict[str, str]:
    """Environment of the app under test."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PA_", "OPENAI_")) and k != "DATABASE_URL"
    }
    env.update(
        PA_DATABASE_URL=database_url,
        PA_AUTH_CONFIG=str(auth_path),
        PA_COOKIE_KEY=COOKIE_KEY,
        PA_LLM_PROVIDER="offline",
        PYTHONUNBUFFERED="1",
    )
    return env


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def session_id_of(url: str) -> str | None:
    """The session_id query parameter of a URL."""
    values = parse_qs(urlparse(url).query).get("session_id")
    return values[0] if values else None


def wait_idle(page) -> None:
    """Wait until the script run the last action started has finished (no stale elements)."""
    app = page.get_by_test_id("stApp")
    expect(app).to_have_attribute("data-test-script-state", "notRunning", timeout=TIMEOUT_MS)
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=TIMEOUT_MS)
    expect(page.locator("[data-stale='true']")).to_have_count(0, timeout=TIMEOUT_MS)


def open_page(page, name: str, path: str) -> None:
    """Click a sidebar page link and wait until that page has finished rendering."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=name).click()
    page.wait_for_function("p => location.pathname === p", arg=path)
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    wait_idle(page)


def login(page, base: str, username: str) -> None:
    """Log in through the form and land on the Chat page."""
    page.goto(base + "/")
    page.get_by_role("textbox", name="Username", exact=True).fill(username, timeout=TIMEOUT_MS)
    page.get_by_role("textbox", name="Password", exact=True).fill(PASSWORDS[username])
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_placeholder(CHAT_INPUT)).to_be_visible(timeout=TIMEOUT_MS)


def send(page, text: str, expected_reply: str) -> None:
    """Type a message, send it, and wait for the streamed reply to be stored and shown."""
    page.get_by_placeholder(CHAT_INPUT).fill(text)
    page.get_by_placeholder(CHAT_INPUT).press("Enter")
    messages = page.get_by_test_id("stChatMessage")
    expect(messages.filter(has_text=expected_reply).last).to_be_visible(timeout=TIMEOUT_MS)
    # The caption appears once the page has reloaded the stored reply (after the stream).
    expect(messages.last.get_by_test_id("stCaptionContainer")).to_be_visible(timeout=TIMEOUT_MS)
    wait_idle(page)
