"""`migrate(url)`: Alembic upgrade to head, idempotent and safe when replicas start at once."""

from __future__ import annotations

import logging
from collections.abc import Callable

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from pa_core.config import PROJECT_ROOT, normalize_url
from pa_core.db import WRITE_OPTION, create_db_engine
from pa_core.errors import MigrationError

# A fixed key for pg_advisory_xact_lock: one migrator at a time per database.
MIGRATION_LOCK_KEY = 0x5041_4D49_4752  # "PAMIGR"

logger = logging.getLogger(__name__)


def alembic_config(url: str | None = None) -> Config:
    """The project's Alembic Config (alembic.ini at the repository root)."""
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    if url:
        cfg.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return cfg


def migrate(url: str, revision: str = "head") -> None:
    """Upgrade the database at `url` to `revision` under a lock (advisory on PostgreSQL)."""
    _run(url, lambda cfg: command.upgrade(cfg, revision))


def downgrade(url: str, revision: str = "base") -> None:
    """Downgrade the database at `url` to `revision` (tests and operators)."""
    _run(url, lambda cfg: command.downgrade(cfg, revision))


def _run(url: str, action: Callable[[Config], None]) -> None:
    """Run an Alembic command on one locked connection to `url`."""
    engine = create_db_engine(url)
    try:
        # SQLite: BEGIN IMMEDIATE serialises migrators; PostgreSQL: a transaction-scoped lock.
        with engine.execution_options(**{WRITE_OPTION: True}).begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
            cfg = alembic_config(url)
            cfg.attributes["connection"] = conn
            action(cfg)
    except Exception as exc:  # boundary: any failure here means the schema is not usable
        logger.exception("Database migration failed")
        raise MigrationError(f"Database migration failed: {exc}") from exc
    finally:
        engine.dispose()
