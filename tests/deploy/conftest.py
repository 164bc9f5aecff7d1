"""Fixtures of the deployment suite: a fresh database, PgBouncer, the replicas and nginx."""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "browser"))

from browser_helpers import CHROMIUM, CHROMIUM_ARGS, PASSWORDS
from topology import NGINX, PGBOUNCER, Topology, admin_exec, fresh_database

import pa_core
from pa_core import auth
from pa_core.db import dispose_engines


@pytest.fixture(scope="module")
def binaries():
    """Debian's nginx and pgbouncer (CI installs them; a missing one is a failure)."""
    missing = [b for b in (NGINX, PGBOUNCER, CHROMIUM) if not Path(b).exists()]
    if missing:
        pytest.fail(f"missing {', '.join(missing)} (.ci/run installs nginx, pgbouncer, chromium)")


@pytest.fixture(scope="module")
def pooler(pg_server_url, binaries, tmp_path_factory):
    """PgBouncer in front of the test server, with its Topology (replicas not started yet)."""
    tmp = tmp_path_factory.mktemp("deploy")
    auth_path = tmp / "auth.yaml"
    auth.add_user(auth_path, "alice", PASSWORDS["alice"], name="Alice Admin", admin=True)
    auth.add_user(auth_path, "bob", PASSWORDS["bob"], name="Bob User")
    topo = Topology(pg_server_url, auth_path)
    try:
        topo.start_pgbouncer()
        yield topo
    finally:
        topo.stop()
        keep = os.environ.get("PA_KEEP_DEPLOY_LOGS")
        if keep:
            shutil.copytree(topo.dir, keep, dirs_exist_ok=True)
        topo.cleanup()


@pytest.fixture(scope="module")
def deployed(pooler, pg_server_url):
    """The whole topology on one fresh database: (topology, nginx URL, pooled URL, seconds)."""
    name = fresh_database(pg_server_url)
    try:
        started = time.monotonic()
        url = pooler.pooled_url(name)
        pa_core.migrate(url)
        pooler.start_replicas(url, apps=2, apis=2)
        base = pooler.start_nginx()
        yield pooler, base, url, time.monotonic() - started
    finally:
        pooler.stop()
        dispose_engines()
        admin_exec(pg_server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def browser(binaries):
    """Debian's Chromium through Playwright (never `playwright install`)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()
