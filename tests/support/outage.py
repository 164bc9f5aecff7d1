"""Switches that make a test database unreachable and reachable again: a PostgreSQL database
refusing connections (the server keeps running for everyone else), a locked SQLite file."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


class PgOutage:
    """Makes one PostgreSQL database refuse connections (and drops the live ones), then not."""

    def __init__(self, admin_url: str, url: str):
        self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.name = make_url(url).database

    @contextmanager
    def down(self) -> Iterator[None]:
        with self.admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false'))
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": self.name},
            )
        try:
            yield
        finally:
            with self.admin.connect() as conn:
                conn.execute(text(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true'))

    def close(self) -> None:
        self.admin.dispose()


class SqliteLock:
    """Another process-like connection holding the write lock of a SQLite file."""

    def __init__(self, path: str):
        self.path = path

    @contextmanager
    def down(self) -> Iterator[None]:
        other = sqlite3.connect(self.path, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            other.execute("COMMIT")
            other.close()

    def close(self) -> None:
        pass
