"""Exception handlers: every error is one readable JSON body `{"detail": ...}`, never internals."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from pa_core.errors import SessionNotFound, StorageError, ValidationError

log = logging.getLogger(__name__)

MAX_REPORTED_ERRORS = 5


class APIError(Exception):
    """An error answered with `status` and a readable JSON `detail`."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers


def error_response(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """The JSON body every error has: `{"detail": "a sentence"}`."""
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def _unknown_query_params(errors: list[dict[str, Any]]) -> list[str]:
    """Names of query parameters an endpoint does not declare (its query model forbids extras)."""
    return [
        str(err["loc"][-1])
        for err in errors
        if err.get("type") == "extra_forbidden" and tuple(err.get("loc", ()))[:1] == ("query",)
    ]


def readable(errors: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """One sentence and a JSON-safe list from pydantic's validation errors."""
    parts, clean = [], []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ())]
        where = ".".join(p for p in loc if p != "body") or "body"
        msg = str(err.get("msg", "invalid"))
        parts.append(f"{where}: {msg}")
        clean.append({"loc": loc, "msg": msg, "type": str(err.get("type", ""))})
    return "Invalid input — " + "; ".join(parts[:MAX_REPORTED_ERRORS]) + ".", clean


class MethodTable:
    """Which methods each path template serves, for the Allow header of a 405."""

    def __init__(self, prefix: str, routers: Iterable[APIRouter]):
        """Read the (method, path) pairs of `routers` mounted under `prefix`."""
        self._rows: list[tuple[re.Pattern[str], int, frozenset[str]]] = []
        for router in routers:
            for route in router.routes:
                if isinstance(route, APIRoute):
                    regex, _, _ = compile_path(prefix + route.path)
                    self._rows.append((regex, route.path.count("{"), frozenset(route.methods)))

    def allowed(self, path: str) -> str:
        """Methods served at `path`; a literal template such as /sessions/new wins over a
        templated one such as /sessions/{session_id} (Starlette names only one route's)."""
        by_params: dict[int, set[str]] = {}
        for regex, params, methods in self._rows:
            if regex.match(path):
                by_params.setdefault(params, set()).update(methods)
        return ", ".join(sorted(by_params[min(by_params)])) if by_params else ""


async def on_api_error(_request: Request, exc: APIError) -> JSONResponse:
    """An APIError as its status and sentence."""
    return error_response(exc.status, exc.detail, exc.headers)


async def on_request_invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
    """422: a sentence naming the rejected fields, plus one entry per field."""
    errors = list(exc.errors())
    unknown = _unknown_query_params(errors)
    if unknown:
        names = ", ".join(repr(n) for n in unknown[:MAX_REPORTED_ERRORS])
        return error_response(
            422, f"Unknown query parameter(s) {names}; see the API documentation."
        )
    detail, clean = readable(errors)
    return JSONResponse({"detail": detail, "errors": clean}, status_code=422)


async def on_http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    """Starlette's own errors (404, 405, 413, a body FastAPI cannot parse) as JSON sentences."""
    if exc.status_code == 405:
        allow = request.app.state.method_table.allowed(request.scope["path"])
        allow = allow or (exc.headers or {}).get("Allow", "")  # e.g. /docs: Starlette's own
        return error_response(405, "Method not allowed.", {"Allow": allow})
    if exc.status_code == 400 and "parsing the body" in str(exc.detail):
        # FastAPI's answer to a body that is not UTF-8 JSON: a validation error like the rest
        return error_response(422, "Invalid input — the request body is not valid JSON (UTF-8).")
    return error_response(exc.status_code, str(exc.detail), getattr(exc, "headers", None))


async def on_not_found(_request: Request, exc: SessionNotFound) -> JSONResponse:
    """404 for a session that is missing or someone else's (the two look the same)."""
    return error_response(404, str(exc))


async def on_invalid(_request: Request, exc: ValidationError) -> JSONResponse:
    """422 with the service's readable message."""
    return error_response(422, str(exc))


async def on_storage_error(_request: Request, exc: StorageError) -> JSONResponse:
    """503; the database's own message goes to the log, never to the client."""
    log.error("storage error: %s", exc)
    return error_response(503, "The database is not available right now; try again shortly.")


async def on_unexpected(_request: Request, exc: Exception) -> JSONResponse:
    """500 with a sentence; the traceback is logged on the server."""
    # boundary: whatever escaped the routes is logged in full and answered without internals
    log.exception("unexpected error", exc_info=exc)
    return error_response(500, "Something went wrong on the server; the error was logged.")


def install_error_handlers(app: FastAPI) -> None:
    """Every error becomes JSON {detail} with the right status; never a traceback."""
    app.add_exception_handler(APIError, on_api_error)
    app.add_exception_handler(RequestValidationError, on_request_invalid)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(SessionNotFound, on_not_found)
    app.add_exception_handler(ValidationError, on_invalid)
    app.add_exception_handler(StorageError, on_storage_error)
    app.add_exception_handler(Exception, on_unexpected)
