"""What the OpenAPI document says about error responses and the chat stream."""

from __future__ import annotations

from typing import Any

from pa_core.api.schemas import ErrorOut

_E = {"model": ErrorOut}
INVALID: dict[int | str, dict[str, Any]] = {422: {**_E, "description": "Invalid input"}}
AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {**_E, "description": "Missing or wrong credentials"},
    429: {**_E, "description": "Too many failed logins (account or address); see Retry-After"},
    **INVALID,
    503: {**_E, "description": "The database is not available"},
}
SESSION_ERRORS = {**AUTH_ERRORS, 404: {**_E, "description": "No such session of yours"}}
EXPORT_ERRORS = {
    429: {**_E, "description": "Too many failed logins, or too many exports downloading at once"}
}
BODY_ERRORS = {413: {**_E, "description": "Request body or message too large"}}
ADMIN_ERRORS = {403: {**_E, "description": "scope=all needs an admin"}}
CSV_BODY = {200: {"description": "CSV, header first", "content": {"text/csv": {}}}}

SSE_EVENT_SCHEMA = {
    "type": "object",
    "description": (
        "One server-sent event; `data` is JSON: session {session_id}, delta {text}, "
        "done {the ChatOut fields}, error {detail}."
    ),
    "required": ["event", "data"],
    "properties": {
        "event": {"type": "string", "enum": ["session", "delta", "done", "error"]},
        "data": {"type": "string", "contentMediaType": "application/json"},
    },
}
CHAT_BODY = {
    200: {
        "description": "The reply (JSON), or with stream=true server-sent events",
        "content": {"text/event-stream": {"schema": SSE_EVENT_SCHEMA}},
    },
}
