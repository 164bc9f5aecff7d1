"""The API app factory: state, middleware, error handlers and the routers under one prefix."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import anyio.to_thread
from fastapi import FastAPI

from pa_core.api.docs_page import DOCS_PATH, add_docs_page
from pa_core.api.errors import MethodTable, install_error_handlers
from pa_core.api.middleware import MAX_BODY_BYTES, BodySizeLimit, SecurityHeaders
from pa_core.api.routers import (
    chat,
    export,
    feedback,
    health,
    messages,
    metrics,
    search,
    sessions,
    transfer,
)
from pa_core.api.state import ApiState
from pa_core.config import Settings, get_settings
from pa_core.service import ConversationService

PREFIX = "/api/v1/personal-assistant"
ROUTERS = (health, sessions, messages, chat, search, metrics, export, transfer, feedback)
DESCRIPTION = (
    "Sessions, messages, chat, search, export and metrics of the Personal Assistant. "
    "Every endpoint but /health needs HTTP Basic credentials of an app user "
    "or one of their API tokens (Authorization: Bearer pa_...)."
)


def thread_limit(threads: int) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """A lifespan that lets `threads` requests run their (blocking) route code at once; the
    others wait on the event loop, holding neither a thread nor a database connection."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        yield

    return lifespan


def create_app(
    service: ConversationService | None = None,
    settings: Settings | None = None,
    *,
    auth_config: Path | str | None = None,
) -> FastAPI:
    """The API app over `service` (default: one built from `settings` on the first request).

    `settings` defaults to the process's `get_settings()`; `auth_config` overrides its
    PA_AUTH_CONFIG. Nothing connects to the database until a request needs it. /docs exists only
    with PA_API_DOCS=1 (a plain page, no CDN); /openapi.json always.
    """
    settings = settings or get_settings()
    app = FastAPI(
        lifespan=thread_limit(settings.api_threads),
        title="Personal Assistant API",
        version="1.0.0",
        description=DESCRIPTION,
        docs_url=None,  # Swagger UI and ReDoc would load their scripts from a CDN
        redoc_url=None,
    )
    app.state.pa = ApiState(service=service, settings=settings, auth_config=auth_config)
    app.state.method_table = MethodTable(PREFIX, [module.router for module in ROUTERS])
    install_error_handlers(app)
    app.add_middleware(
        BodySizeLimit,
        max_bytes=MAX_BODY_BYTES,
        larger={PREFIX + transfer.IMPORT_PATH: transfer.MAX_IMPORT_BODY},
    )
    app.add_middleware(SecurityHeaders, docs_path=DOCS_PATH if settings.api_docs else None)
    for module in ROUTERS:
        app.include_router(module.router, prefix=PREFIX)
    if settings.api_docs:
        add_docs_page(app)
    return app
