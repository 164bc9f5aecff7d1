"""Migrations: up/down/up on both backends, no drift, concurrent migrators on PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

import pa_core
from pa_core.db import create_db_engine
from pa_core.migrate import alembic_config, downgrade
from pa_core.models import Base
from pa_core.schema_extras import include_object

ROOT = Path(__file__).resolve().parents[2]
TABLES = {"users", "conversation_sessions", "conversation_messages"}


def _tables(url):
    engine = create_db_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _drift(url):
    engine = create_db_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(
                conn, opts={"include_object": include_object, "compare_type": True}
            )
            return compare_metadata(ctx, Base.metadata)
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(empty_url):
    pa_core.migrate(empty_url)
    assert _tables(empty_url) >= TABLES
    pa_core.migrate(empty_url)  # idempotent
    downgrade(empty_url, "base")
    assert not (TABLES & _tables(empty_url))
    pa_core.migrate(empty_url)
    assert _tables(empty_url) >= TABLES
    svc = pa_core.ConversationService(create_db_engine(empty_url))
    user = svc.ensure_user("after-migrations")
    s = svc.create_session(user=user)
    svc.add_message(s.session_id, user=user, content="searchable words here")
    assert svc.search_messages(user, "searchable")
    svc.engine.dispose()


def test_no_drift_between_models_and_migrations(empty_url):
    pa_core.migrate(empty_url)
    assert _drift(empty_url) == []


def test_migration_failure_is_named_error(tmp_path):
    with pytest.raises(pa_core.MigrationError):
        pa_core.migrate("postgresql+psycopg2://postgres@127.0.0.1:1/none")


def test_three_processes_migrate_fresh_postgres_at_once(pg_databases):
    url = pg_databases.empty()
    code = "import sys, pa_core; pa_core.migrate(sys.argv[1]); print('ok')"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, url],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], results
    engine = create_db_engine(url)
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with engine.connect() as conn:
        versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    engine.dispose()
    assert versions == [head]
    assert _drift(url) == []
    pg_databases.drop(url)
