"""Shared fixtures: a real SQLite file and a real PostgreSQL database for every backend test."""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import pa_core
from pa_core.db import create_db_engine
from support.pg_cluster import ThrowawayCluster, admin_exec

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def pg_server_url():
    """Admin URL of a PostgreSQL server: TEST_DATABASE_URL, else a throwaway cluster."""
    required = os.environ.get("PA_REQUIRE_POSTGRES") == "1"
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        url = pa_core.config.normalize_url(url)
        try:
            engine = create_engine(url)
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            engine.dispose()
        except Exception as exc:  # noqa: BLE001 - turned into a clear fail/skip below
            if required:
                pytest.fail(f"PostgreSQL at TEST_DATABASE_URL is not reachable: {exc}")
            pytest.skip(f"PostgreSQL not reachable: {exc}")
        yield url
        return
    cluster = ThrowawayCluster()
    if not cluster.available:
        if required:
            pytest.fail("PA_REQUIRE_POSTGRES=1 but no TEST_DATABASE_URL and no initdb/pg_ctl")
        pytest.skip("no PostgreSQL server available (set TEST_DATABASE_URL)")
    yield cluster.start()
    cluster.stop()


class PgDatabases:
    """Creates migrated PostgreSQL databases quickly by cloning a migrated template."""

    def __init__(self, admin_url: str):
        self.admin_url = admin_url
        self.template = f"pa_tpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.created: list[str] = []

    def url_for(self, name: str) -> str:
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def empty(self) -> str:
        """A new, empty database (for migration tests)."""
        name = f"pa_t_{uuid.uuid4().hex[:12]}"
        admin_exec(self.admin_url, f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return self.url_for(name)

    def migrated(self) -> str:
        """A new database at head, cloned from the template."""
        name = f"pa_t_{uuid.uuid4().hex[:12]}"
        admin_exec(self.admin_url, f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        self.created.append(name)
        return self.url_for(name)

    def drop(self, url: str) -> None:
        name = make_url(url).database
        admin_exec(self.admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def setup(self) -> None:
        admin_exec(self.admin_url, f'CREATE DATABASE "{self.template}"')
        pa_core.migrate(self.url_for(self.template))

    def teardown(self) -> None:
        for name in [*self.created, self.template]:
            # best-effort cleanup at the end of the run
            with contextlib.suppress(Exception):
                admin_exec(self.admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_databases(pg_server_url):
    """Factory of migrated PostgreSQL databases for this test run."""
    dbs = PgDatabases(pg_server_url)
    dbs.setup()
    yield dbs
    dbs.teardown()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite file that tests copy instead of migrating again."""
    path = tmp_path_factory.mktemp("tpl") / "template.db"
    pa_core.migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path, sqlite_template):
    """URL of a fresh migrated database of each backend (real file / real server)."""
    if request.param == "sqlite":
        path = tmp_path / "pa.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    dbs = request.getfixturevalue("pg_databases")
    url = dbs.migrated()
    yield url
    dbs.drop(url)


@pytest.fixture
def engine(db_url):
    """An engine on the test database, disposed afterwards."""
    eng = create_db_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def svc(engine):
    """A ConversationService on the test database."""
    return pa_core.ConversationService(engine)


@pytest.fixture
def alice(svc):
    return svc.ensure_user("alice", display_name="Alice", email="alice@example.com")


@pytest.fixture
def bob(svc):
    return svc.ensure_user("bob")


def pytest_terminal_summary(terminalreporter):
    """Print how many tests ran on each backend, so a CI log shows PostgreSQL really ran."""
    counts: dict[str, dict[str, int]] = {}
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            nodeid = getattr(report, "nodeid", "")
            if getattr(report, "when", "call") not in ("call", "setup") or (
                outcome == "passed" and report.when != "call"
            ):
                continue
            backend = next((b for b in BACKENDS if f"[{b}" in nodeid or f"-{b}" in nodeid), None)
            if backend:
                counts.setdefault(backend, {}).setdefault(outcome, 0)
                counts[backend][outcome] += 1
    for backend, by_outcome in sorted(counts.items()):
        summary = ", ".join(f"{n} {o}" for o, n in sorted(by_outcome.items()))
        terminalreporter.write_line(f"backend {backend}: {summary}")


@pytest.fixture(autouse=True)
def fresh_settings(monkeypatch, tmp_path):
    """Every test reads Settings from its own environment (get_settings caches per process),
    with its own spool directory (messages kept while the database is down)."""
    monkeypatch.setenv("PA_SPOOL_DIR", str(tmp_path / "spool"))
    pa_core.get_settings.cache_clear()
    yield
    pa_core.get_settings.cache_clear()
