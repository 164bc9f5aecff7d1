"""Fixtures shared by the core tests: an empty database of each backend, and the app's role."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.engine import make_url

from pa_core.app_role import grant_statements
from support.pg_cluster import admin_exec


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request, tmp_path):
    """An empty (not migrated) SQLite file or PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    dbs = request.getfixturevalue("pg_databases")
    url = dbs.empty()
    yield url
    dbs.drop(url)


@pytest.fixture
def app_db(pg_databases):
    """(admin URL, app-role URL) of a migrated database; the role is dropped afterwards."""
    admin_url = pg_databases.migrated()
    role = f"pa_app_{uuid.uuid4().hex[:10]}"
    admin_exec(pg_databases.admin_url, f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS")
    admin_exec(admin_url, *grant_statements(role))
    app_url = make_url(admin_url).set(username=role, password=None)
    yield admin_url, app_url.render_as_string(hide_password=False)
    pg_databases.drop(admin_url)
    admin_exec(pg_databases.admin_url, f"DROP ROLE IF EXISTS {role}")
