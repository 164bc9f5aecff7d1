"""Alembic environment: runs on the connection pa_core.migrate() hands over, or on settings' URL."""

from alembic import context

from pa_core.models import Base
from pa_core.schema_extras import include_object

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    """Migrate over the shared connection (pa_core.migrate) or a fresh engine."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from pa_core.config import get_settings
    from pa_core.db import create_db_engine

    url = config.get_main_option("sqlalchemy.url") or get_settings().resolved_database_url
    engine = create_db_engine(url)
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("Offline (--sql) migrations are not supported; run against a database.")
run_migrations_online()
