"""Helpers for the real-browser suite: the Streamlit server process, screenshots."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

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
