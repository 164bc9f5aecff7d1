"""Engine factory and dialect specifics: SQLite pragmas and BEGIN IMMEDIATE, PostgreSQL pool."""

from __future__ import annotations

import select
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import make_url

from pa_core.config import normalize_url

WRITE_OPTION = "pa_write"
SQLITE_BUSY_TIMEOUT_MS = 30_000
# A pooled PostgreSQL connection is pinged before use when it sat idle longer than this, or when
# its socket has something to read although no query is running (a server that shut down or
# terminated it has sent an error and closed it); otherwise it is handed out as is.
PING_AFTER_IDLE_S = 1.0
_IDLE_SINCE = "pa_idle_since"

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def is_sqlite(engine: Engine) -> bool:
    """True when the engine talks to SQLite."""
    return engine.dialect.name == "sqlite"


def create_db_engine(url: str, **kwargs: Any) -> Engine:
    """A new Engine for `url` with the pragmas, timeouts and pool settings this project needs."""
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            **kwargs,
        )
        _install_sqlite_hooks(engine)
        return engine
    if parsed.get_backend_name() == "postgresql":
        connect_args = {"options": "-c timezone=UTC", "application_name": "personal-assistant"}
        connect_args["connect_timeout"] = 10
        kwargs.setdefault("pool_size", 5)
        kwargs.setdefault("max_overflow", 10)
        kwargs.setdefault("pool_recycle", 1800)
        ping_after = kwargs.pop("ping_after_idle_s", PING_AFTER_IDLE_S)
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        if "pool_pre_ping" not in kwargs:  # a restarted server costs no failed request
            _install_idle_ping(engine, ping_after)
        return engine
    return create_engine(url, **kwargs)


def get_engine(url: str) -> Engine:
    """The one shared Engine per URL in this process."""
    url = normalize_url(url)
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _engines[url] = create_db_engine(url)
        return engine


def dispose_engines() -> None:
    """Close every shared engine (tests and shutdown)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def first_line(exc: BaseException) -> str:
    """The first line of a driver error (at most 300 characters), for a readable message."""
    return (
        str(getattr(exc, "orig", exc)).strip().splitlines()[0][:300]
        if str(exc)
        else type(exc).__name__
    )


def _install_idle_ping(engine: Engine, after_s: float) -> None:
    """Ping a pooled connection before use when it may have gone (see PING_AFTER_IDLE_S)."""

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_conn, record):
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_conn, record, _proxy):
        since = record.info.pop(_IDLE_SINCE, None)
        if since is None or not _may_be_gone(dbapi_conn, time.monotonic() - since, after_s):
            return
        try:
            with dbapi_conn.cursor() as cur:
                cur.execute("SELECT 1")
            dbapi_conn.rollback()
        except engine.dialect.loaded_dbapi.Error as err:  # the pool retries with a new one
            raise exc.DisconnectionError(str(err)) from err


def _may_be_gone(dbapi_conn: Any, idle_s: float, after_s: float) -> bool:
    """True when the idle connection is worth a ping: idle long, or its socket is readable."""
    if idle_s >= after_s:
        return True
    try:
        readable, _, _ = select.select([dbapi_conn.fileno()], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _install_sqlite_hooks(engine: Engine) -> None:
    """WAL, busy timeout, foreign keys; transactions begun by us (BEGIN IMMEDIATE for writes)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # pragma: no cover - exercised by every SQLite test
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves, below
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # pragma: no cover - exercised by every SQLite test
        write = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
