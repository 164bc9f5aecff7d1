"""REST API (FastAPI) over the same ConversationService and PersonalAssistant as the app.

`create_app(service=None, settings=None, *, auth_config=None)` builds an app. For
`uvicorn pa_core.api:app`, the module attribute `app` is built from the process's Settings on
first access, once; importing this package reads no settings and connects to nothing.
See docs/API.md.
"""

from __future__ import annotations

import threading

from fastapi import FastAPI

from pa_core.api.cursor import decode_cursor, encode_cursor
from pa_core.api.errors import APIError
from pa_core.api.factory import PREFIX, create_app
from pa_core.api.middleware import MAX_BODY_BYTES

_app_lock = threading.Lock()
_app: FastAPI | None = None


def __getattr__(name: str) -> FastAPI:
    """`app`: the process's API app (for `uvicorn pa_core.api:app`), built on first access."""
    global _app
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    with _app_lock:
        if _app is None:
            _app = create_app()
    return _app


__all__ = [
    "MAX_BODY_BYTES",
    "PREFIX",
    "APIError",
    "create_app",
    "decode_cursor",
    "encode_cursor",
]
