"""`python -m pa_core serve-api` in a subprocess on 127.0.0.1, for tests that need a real socket."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from support.pg_cluster import free_port

ROOT = Path(__file__).resolve().parents[2]
HEALTH = "/api/v1/personal-assistant/health"


@contextlib.contextmanager
def serve_api(db_url: str, log_path: Path, **env: str) -> Iterator[str]:
    """Start the API on `db_url` with `env` added; yield its base URL once healthy; stop it."""
    with api_process(db_url, log_path, **env) as (_proc, base):
        yield base


@contextlib.contextmanager
def api_process(db_url: str, log_path: Path, **env: str) -> Iterator[tuple[subprocess.Popen, str]]:
    """Like serve_api, but yields (the process, its base URL): for tests that kill it."""
    port = free_port()
    inherited = {
        k: v for k, v in os.environ.items() if k not in ("PA_DATABASE_URL", "DATABASE_URL")
    }
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "pa_core", "--database-url", db_url),
                *("serve-api", "--host", "127.0.0.1", "--port", str(port)),
            ],
            cwd=ROOT, env={**inherited, **env}, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(proc, base, log_path)
            yield proc, base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_healthy(proc: subprocess.Popen, base: str, log_path: Path) -> None:
    """Poll /health until it answers 200 (a 60 s guard, not a timing assertion)."""
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, log_path.read_text()
        try:
            if httpx.get(base + HEALTH, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "uvicorn did not become ready"
        time.sleep(0.1)
