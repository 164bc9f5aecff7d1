"""Fixtures of the assistant tests: a fake OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import event

import pa_core
from pa_core.db import create_db_engine
from support.llm_fake import FakeLLM
from support.outage import PgOutage, SqliteLock


@pytest.fixture
def llm():
    """A running FakeLLM, stopped (and its port freed) afterwards."""
    server = FakeLLM().start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def outage(request, tmp_path, sqlite_template):
    """(service, outage switch) on a fresh database of each backend; `.url` on the service's
    engine names it for a subprocess."""
    if request.param == "sqlite":
        path = tmp_path / "pa.db"
        shutil.copy(sqlite_template, path)
        engine = create_db_engine(f"sqlite:///{path}")

        @event.listens_for(engine, "connect")
        def _short_busy_timeout(dbapi_conn, _record):  # a lock fails in 0.2 s, not 30 s
            dbapi_conn.execute("PRAGMA busy_timeout=200")

        switch = SqliteLock(str(path))
    else:
        dbs = request.getfixturevalue("pg_databases")
        url = dbs.migrated()
        engine = create_db_engine(url)
        switch = PgOutage(dbs.admin_url, url)
    yield pa_core.ConversationService(engine), switch
    engine.dispose()
    switch.close()
    if request.param == "postgresql":
        dbs.drop(url)
