"""The app factory: the OpenAPI document, and `pa_core.api:app` built lazily."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

P = "/api/v1/personal-assistant"
ROOT = Path(__file__).resolve().parents[2]


def test_openapi_document_lists_every_endpoint(client):
    doc = client.get("/openapi.json").json()
    paths = doc["paths"]
    for path, method in [
        ("/sessions/new", "post"),
        ("/sessions", "get"),
        ("/sessions/{session_id}/messages", "get"),
        ("/sessions/{session_id}", "delete"),
        ("/sessions/{session_id}", "patch"),
        ("/chat", "post"),
        ("/sessions/{session_id}/export.csv", "get"),
        ("/export.csv", "get"),
        ("/search", "get"),
        ("/metrics", "get"),
        ("/health", "get"),
    ]:
        assert method in paths[P + path], (path, method)
    assert doc["components"]["securitySchemes"]["basicAuth"]["scheme"] == "basic"
    assert "security" not in paths[P + "/health"]["get"]
    assert "security" in paths[P + "/sessions"]["get"]
    assert client.get("/docs").status_code == 404  # off unless PA_API_DOCS=1


def test_importing_the_api_has_no_side_effects_and_app_is_built_once(tmp_path):
    """`import pa_core.api` reads no settings and opens nothing; `app` is built on first use."""
    probe = (
        "import pa_core.api as api, pa_core.config as config\n"
        "assert config.get_settings.cache_info().misses == 0, 'settings read at import'\n"
        "first = api.app\n"
        "assert first is api.app and type(first).__name__ == 'FastAPI'\n"
        "assert config.get_settings.cache_info().misses == 1\n"
        "from pa_core.api import app\n"
        "assert app is first\n"
        "print('ok')\n"
    )
    db = tmp_path / "never.db"
    env = {**os.environ, "PA_DATABASE_URL": f"sqlite:///{db}"}
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
    assert not db.exists()  # nothing connected, nothing migrated
