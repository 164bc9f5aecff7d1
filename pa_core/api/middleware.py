"""ASGI middleware of the API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.exceptions import HTTPException as StarletteHTTPException

from pa_core.api.errors import error_response

MAX_BODY_BYTES = 1024 * 1024  # a 200,000-character message is at most 800 KB of UTF-8

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodySizeLimit:
    """413 for a body over `max_bytes`, declared (Content-Length) or streamed (chunked)."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int = MAX_BODY_BYTES,
        larger: dict[str, int] | None = None,
    ):
        """Wrap `app`; bodies up to `max_bytes` pass (`larger`: a higher limit per path)."""
        self.app, self.max_bytes, self.larger = app, max_bytes, larger or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer 413 at once for a declared oversize body; stop a streamed one midway."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.larger.get(scope.get("path", ""), self.max_bytes)
        too_big = f"The request body is over {limit:,} bytes."
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await error_response(413, too_big)(scope, receive, send)
                return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # FastAPI re-raises HTTPException from body reading; our handler answers it
                    raise StarletteHTTPException(413, too_big)
            return message

        await self.app(scope, limited_receive, send)


API_CSP = "default-src 'none'; frame-ancestors 'none'"
DOCS_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)


class SecurityHeaders:
    """Headers on every response: nosniff, no framing, no referrer, a strict CSP and
    `Cache-Control: no-store` unless the route set its own (nothing the API sends is cacheable)."""

    def __init__(self, app: ASGIApp, docs_path: str | None = None):
        """Wrap `app`; `docs_path` (the HTML docs page) gets a CSP that lets its styles apply."""
        self.app, self.docs_path = app, docs_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Add the headers to the response start of every HTTP request."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = DOCS_CSP if scope.get("path") == self.docs_path else API_CSP

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                extra = [*SECURITY_HEADERS, (b"content-security-policy", csp.encode())]
                if b"cache-control" not in present:
                    extra.append((b"cache-control", b"no-store"))
                headers.extend(h for h in extra if h[0] not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
