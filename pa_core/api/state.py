"""What one API app holds: its Settings, its authenticator, its export slots and its service
(built on first use)."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from pa_core.api.login import BasicAuthenticator
from pa_core.api.streaming import StreamSlots
from pa_core.config import Settings
from pa_core.db import create_db_engine, get_engine
from pa_core.errors import PAError, StorageError
from pa_core.migrate import migrate
from pa_core.service import ConversationService


def api_engine(url: str, pool: int) -> Engine:
    """The API process's engine: on PostgreSQL a pool of `pool` connections, kept open and
    never more (a request beyond them waits for one, up to the pool timeout). A pool with
    overflow connections closes each of them when it is returned, so a busy API would open a
    new connection for many of its transactions."""
    if make_url(url).get_backend_name() != "postgresql":
        return get_engine(url)
    return create_db_engine(url, pool_size=pool, max_overflow=0)


class ApiState:
    """Kept in `app.state.pa`; routes reach it through the dependencies in pa_core.api.deps."""

    def __init__(
        self,
        *,
        service: ConversationService | None,
        settings: Settings,
        auth_config: Path | str | None = None,
    ):
        """Use `service`, or one over the settings' database built on the first request."""
        self._service = service
        self._lock = threading.Lock()
        self.settings = settings
        self.authenticator = BasicAuthenticator(
            auth_config or settings.auth_config,
            oidc=settings.auth_mode == "oidc",
            token_ttl_s=settings.api_token_cache_s,
        )
        self.export_slots = StreamSlots(settings.export_streams_per_user)

    def ready_service(self) -> ConversationService | None:
        """The service when it is built already (no migration or connection needed), else None."""
        return self._service

    def service(self) -> ConversationService:
        """The service; the first call migrates the configured database (StorageError if down)."""
        if self._service is not None:
            return self._service
        with self._lock:
            if self._service is None:
                url = self.settings.resolved_database_url
                try:
                    migrate(url)
                except PAError as exc:
                    raise StorageError(f"The database is not available: {exc}") from exc
                self._service = ConversationService(api_engine(url, self.settings.api_db_pool))
        return self._service
