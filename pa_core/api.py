"""REST API (FastAPI) over the same ConversationService and PersonalAssistant as the app.

Start it with `uvicorn pa_core.api:app` or `python -m pa_core serve-api`; see docs/API.md.
"""

import base64
import binascii
import json
import logging
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple

from fastapi import Body, Depends, FastAPI, Query, Request, Security
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi.security import HTTPBasic, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from pa_core.api_auth import BasicAuthenticator, TooManyFailedLogins
from pa_core.api_models import (
    ChatIn,
    ChatOut,
    ErrorOut,
    HealthOut,
    MessageOut,
    MessagePage,
    MetricsOut,
    NewSessionIn,
    NewSessionOut,
    SearchHitOut,
    SearchOut,
    SessionOut,
    SessionPage,
    SessionPatchIn,
)
from pa_core.auth import AuthConfigError
from pa_core.config import Settings, get_settings
from pa_core.errors import PAError, SessionNotFound, StorageError, ValidationError
from pa_core.migrate import migrate
from pa_core.records import UserRecord
from pa_core.service import ConversationService
from pa_core.validation import MAX_CONTENT_CHARS, MAX_SEARCH_CHARS, check_content

log = logging.getLogger(__name__)

PREFIX = "/api/v1/personal-assistant"
REALM = "personal-assistant"
MAX_BODY_BYTES = 1024 * 1024  # a 200,000-character message is at most 800 KB of UTF-8
MAX_PAGE = 500
MAX_MESSAGE_PAGE = 1000
MAX_DB_INT = 2**63 - 1

_DATE_HELP = (
    "ISO 8601 date or date-time, e.g. 2026-11-01 or 2026-11-01T09:30:00+01:00; naive means UTC."
)


class APIError(Exception):
    """An error answered with `status` and a readable JSON `detail`."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers


class _CursorPosition(NamedTuple):
    """What `get_user_sessions(before=...)` reads from the last session of a page."""

    last_activity_at: datetime
    id: int


def encode_cursor(last_activity_at: datetime, session_pk: int) -> str:
    """An opaque paging token for the position after (last_activity_at, id)."""
    raw = json.dumps([last_activity_at.isoformat(), session_pk], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> _CursorPosition:
    """The position a cursor encodes; APIError 422 when it was not made by encode_cursor."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        stamp, pk = json.loads(raw)
        when = datetime.fromisoformat(stamp)
        if when.tzinfo is None or isinstance(pk, bool) or not isinstance(pk, int):
            raise ValueError("bad cursor")
        if not 0 <= pk <= MAX_DB_INT:
            raise ValueError("bad cursor")
        return _CursorPosition(when.astimezone(UTC), pk)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, OverflowError):
        raise APIError(
            422, "The cursor is not valid; use next_cursor of a previous page."
        ) from None


def _query_names(dependant: Any) -> set[str]:
    """Names of the query parameters a route (and its dependencies) declare."""
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def _reject_unknown_query_params(request: Request) -> None:
    """422 for a query parameter the endpoint does not declare (catches typos like `limt`)."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    known = _query_names(dependant)
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        names = ", ".join(repr(n) for n in unknown[:5])
        raise APIError(422, f"Unknown query parameter(s) {names}; see the API documentation.")


class BodySizeLimit:
    """ASGI middleware: 413 for a body over `max_bytes`, declared or streamed (chunked)."""

    def __init__(self, app: Any, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_big = f"The request body is over {self.max_bytes:,} bytes."
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await _error(413, too_big)(scope, receive, send)
                return
        seen = 0

        async def limited_receive() -> dict:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # FastAPI re-raises HTTPException from body reading; our handler answers it
                    raise StarletteHTTPException(413, too_big)
            return message

        await self.app(scope, limited_receive, send)


class _RawAuthorization:
    """An OpenAPI security scheme that hands over the raw Authorization header; we parse it."""

    async def __call__(self, request: Request) -> str | None:
        return request.headers.get("Authorization")


class _BasicScheme(_RawAuthorization, HTTPBasic):
    """Declares HTTP Basic in OpenAPI; the header is parsed by us (UTF-8, RFC 7617)."""


class _BearerScheme(_RawAuthorization, HTTPBearer):
    """Declares bearer API tokens in OpenAPI; the header is parsed by us."""


class _State:
    """The app's service (created lazily from Settings) and authenticator."""

    def __init__(
        self,
        service: ConversationService | None,
        settings: Settings,
        auth_config: Path | str | None,
    ):
        self._service = service
        self._lock = threading.Lock()
        self.settings = settings
        self.authenticator = BasicAuthenticator(auth_config or settings.auth_config)

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
                self._service = ConversationService.from_url(url)
        return self._service


def _parse_bearer(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer ...` header, else None."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def _parse_basic(header: str | None) -> tuple[str, str] | None:
    """(username, password) from an `Authorization: Basic ...` header, else None."""
    if not header:
        return None
    scheme, _, param = header.partition(" ")
    if scheme.lower() != "basic" or not param.strip():
        return None
    try:
        data = base64.b64decode(param.strip(), validate=True).decode("utf-8")
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    username, sep, password = data.partition(":")
    if not sep or not username:
        return None
    return username, password


_UNAUTHORIZED = {
    "WWW-Authenticate": f'Basic realm="{REALM}", charset="UTF-8", Bearer realm="{REALM}"'
}
_E = {"model": ErrorOut}
_AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {**_E, "description": "Missing or wrong credentials"},
    429: {**_E, "description": "Too many failed logins for this username; see Retry-After"},
    422: {**_E, "description": "Invalid input"},
    503: {**_E, "description": "The database is not available"},
}
_SESSION_ERRORS = {**_AUTH_ERRORS, 404: {**_E, "description": "No such session of yours"}}
_BODY_ERRORS = {413: {**_E, "description": "Request body or message too large"}}


_SSE_EVENT_SCHEMA = {
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


def _sid_param() -> Any:
    return PathParam(
        description="The session's UUID; another user's session is reported as not found.",
        max_length=64,
    )


def create_app(
    service: ConversationService | None = None,
    settings: Settings | None = None,
    *,
    auth_config: Path | str | None = None,
) -> FastAPI:
    """The API app over `service` (default: one built from Settings on first use)."""
    settings = settings or get_settings()
    state = _State(service, settings, auth_config)
    app = FastAPI(
        dependencies=[Depends(_reject_unknown_query_params)],
        title="Personal Assistant API",
        version="1.0.0",
        description=(
            "Sessions, messages, chat, search, export and metrics of the Personal Assistant. "
            "Every endpoint but /health needs HTTP Basic credentials of an app user "
            "or one of their API tokens (Authorization: Bearer pa_...)."
        ),
    )
    app.state.pa = state
    basic = _BasicScheme(scheme_name="basicAuth", realm=REALM, auto_error=False)
    bearer = _BearerScheme(
        scheme_name="apiToken",
        description="An API token from `python -m pa_core token create USER`.",
        auto_error=False,
    )
    _install_error_handlers(app)

    app.add_middleware(BodySizeLimit, max_bytes=MAX_BODY_BYTES)

    def svc() -> ConversationService:
        return state.service()

    def current_user(
        header: Annotated[str | None, Security(basic)],
        _bearer: Annotated[str | None, Security(bearer)],
    ) -> UserRecord:
        creds = _parse_basic(header)
        token = _parse_bearer(header)
        if creds is None and token is None:
            raise APIError(
                401, "Credentials are required (HTTP Basic or an API token).", _UNAUTHORIZED
            )
        try:
            if token is not None:
                user = state.authenticator.authenticate_token(token, state.service())
            else:
                user = state.authenticator.authenticate(*creds, state.service())
        except AuthConfigError as exc:
            log.error("auth config unreadable: %s", exc)
            raise APIError(503, "The login configuration cannot be read.") from None
        except ValidationError:  # a username the database refuses (e.g. too long)
            user = None
        except TooManyFailedLogins as exc:
            raise APIError(429, str(exc), {"Retry-After": str(exc.retry_after_s)}) from None
        if user is None:
            wrong = "That API token is not valid." if token else "Wrong username or password."
            raise APIError(401, wrong, _UNAUTHORIZED)
        return user

    User = Annotated[UserRecord, Depends(current_user)]
    Svc = Annotated[ConversationService, Depends(svc)]

    @app.get(
        f"{PREFIX}/health",
        response_model=HealthOut,
        tags=["health"],
        responses={503: {"model": HealthOut, "description": "The database is not reachable"}},
    )
    def health() -> Any:
        """Liveness and database reachability (no authentication)."""
        try:
            ok = state.service().ping()
        except StorageError:
            ok = False
        body = HealthOut(
            status="ok" if ok else "unavailable", database="reachable" if ok else "unreachable"
        )
        return JSONResponse(body.model_dump(), status_code=200 if ok else 503)

    @app.post(
        f"{PREFIX}/sessions/new",
        response_model=NewSessionOut,
        tags=["sessions"],
        responses={**_AUTH_ERRORS, **_BODY_ERRORS},
    )
    def new_session(
        user: User, service: Svc, body: Annotated[NewSessionIn | None, Body()] = None
    ) -> NewSessionOut:
        """Start an empty session (optional title)."""
        s = service.create_session(user=user, title=body.title if body else None)
        return NewSessionOut.model_validate(s, from_attributes=True)

    @app.get(
        f"{PREFIX}/sessions",
        response_model=SessionPage,
        tags=["sessions"],
        responses=_AUTH_ERRORS,
    )
    def list_sessions(
        user: User,
        service: Svc,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
        cursor: Annotated[str | None, Query(max_length=200)] = None,
        q: Annotated[
            str | None, Query(max_length=MAX_SEARCH_CHARS, description="Title contains")
        ] = None,
        include_archived: bool = False,
    ) -> SessionPage:
        """The caller's sessions, newest activity first, paged by an opaque cursor."""
        before = decode_cursor(cursor) if cursor else None
        rows = service.get_user_sessions(
            user, limit=limit, before=before, search=q, include_inactive=include_archived
        )
        next_cursor = None
        if len(rows) == limit:
            next_cursor = encode_cursor(rows[-1].last_activity_at, rows[-1].id)
        return SessionPage(
            items=[SessionOut.model_validate(s, from_attributes=True) for s in rows],
            next_cursor=next_cursor,
        )

    @app.get(
        f"{PREFIX}/sessions/{{session_id}}",
        response_model=SessionOut,
        tags=["sessions"],
        responses=_SESSION_ERRORS,
    )
    def get_session(
        user: User, service: Svc, session_id: Annotated[str, _sid_param()]
    ) -> SessionOut:
        """One of the caller's sessions."""
        s = service.get_session(session_id, user=user)
        if s is None:
            raise SessionNotFound(session_id)
        return SessionOut.model_validate(s, from_attributes=True)

    @app.patch(
        f"{PREFIX}/sessions/{{session_id}}",
        response_model=SessionOut,
        tags=["sessions"],
        responses={**_SESSION_ERRORS, **_BODY_ERRORS},
    )
    def patch_session(
        user: User,
        service: Svc,
        session_id: Annotated[str, _sid_param()],
        body: SessionPatchIn,
    ) -> SessionOut:
        """Rename and/or archive (is_active=false) or restore one of the caller's sessions."""
        if body.title is None and body.is_active is None:
            raise APIError(422, "Send a title and/or is_active.")
        s = None
        if body.title is not None:
            s = service.rename_session(session_id, user=user, title=body.title)
        if body.is_active is not None:
            s = service.set_session_active(session_id, user=user, active=body.is_active)
        return SessionOut.model_validate(s, from_attributes=True)

    @app.delete(
        f"{PREFIX}/sessions/{{session_id}}",
        status_code=204,
        response_class=Response,
        tags=["sessions"],
        responses=_SESSION_ERRORS,
    )
    def delete_session(
        user: User, service: Svc, session_id: Annotated[str, _sid_param()]
    ) -> Response:
        """Delete one of the caller's sessions and all its messages, for real."""
        service.delete_session(session_id, user=user)
        return Response(status_code=204)

    @app.get(
        f"{PREFIX}/sessions/{{session_id}}/messages",
        response_model=MessagePage,
        tags=["messages"],
        responses=_SESSION_ERRORS,
    )
    def list_messages(
        user: User,
        service: Svc,
        session_id: Annotated[str, _sid_param()],
        limit: Annotated[int, Query(ge=1, le=MAX_MESSAGE_PAGE)] = 100,
        before_id: Annotated[int | None, Query(ge=1, le=MAX_DB_INT)] = None,
    ) -> MessagePage:
        """The last `limit` messages before `before_id`, oldest first."""
        rows = service.get_messages(session_id, user=user, limit=limit, before_id=before_id)
        next_before = rows[0].id if len(rows) == limit else None
        return MessagePage(items=[MessageOut.of(m) for m in rows], next_before_id=next_before)

    @app.post(
        f"{PREFIX}/chat",
        response_model=ChatOut,
        tags=["chat"],
        responses={
            **_SESSION_ERRORS,
            **_BODY_ERRORS,
            200: {
                "description": "The reply (JSON), or with stream=true server-sent events",
                "content": {"text/event-stream": {"schema": _SSE_EVENT_SCHEMA}},
            },
        },
    )
    def chat(
        user: User,
        service: Svc,
        body: ChatIn,
        stream: Annotated[
            bool, Query(description="Stream the reply as server-sent events")
        ] = False,
    ) -> Any:
        """Send a message to the assistant; the exchange is stored in the session."""
        if len(body.message) > MAX_CONTENT_CHARS:
            raise APIError(
                413,
                f"The message is too long ({len(body.message):,} characters; the limit is "
                f"{MAX_CONTENT_CHARS:,}).",
            )
        message = check_content(body.message)
        session_id = body.session_id
        if session_id is not None and service.get_session(session_id, user=user) is None:
            raise SessionNotFound(session_id)
        if session_id is None:  # created here so a database outage is a 503, not a reply
            session_id = service.create_session(user=user).session_id
        from pa_core.agent import PersonalAssistant  # lazy: the agent pulls in the openai SDK

        assistant = PersonalAssistant(service, user)
        if not stream:
            return _reply_out(assistant.chat(message, session_id=session_id))
        return StreamingResponse(
            _sse(assistant, message, session_id),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @app.get(
        f"{PREFIX}/search",
        response_model=SearchOut,
        tags=["search"],
        responses=_AUTH_ERRORS,
    )
    def search(
        user: User,
        service: Svc,
        q: Annotated[str, Query(min_length=1, max_length=MAX_SEARCH_CHARS)],
        limit: Annotated[int, Query(ge=1, le=200)] = 20,
    ) -> SearchOut:
        """Full-text search over the caller's messages (websearch syntax), newest first."""
        hits = service.search_messages(user, q, limit=limit)
        return SearchOut(items=[SearchHitOut.of(h) for h in hits])

    @app.get(
        f"{PREFIX}/metrics",
        response_model=MetricsOut,
        tags=["metrics"],
        responses={**_AUTH_ERRORS, 403: {**_E, "description": "scope=all needs an admin"}},
    )
    def metrics(
        user: User,
        service: Svc,
        since: Annotated[str | None, Query(max_length=64, description=_DATE_HELP)] = None,
        until: Annotated[
            str | None, Query(max_length=64, description=_DATE_HELP + " Exclusive.")
        ] = None,
        scope: Annotated[
            Literal["mine", "all"] | None,
            Query(description="Default: 'all' for admins, 'mine' for everyone else"),
        ] = None,
    ) -> MetricsOut:
        """Session metrics: the caller's, or everyone's for admins."""
        scope = scope or ("all" if user.is_admin else "mine")
        if scope == "all" and not user.is_admin:
            raise APIError(403, "Only admins can see everyone's metrics.")
        m = service.session_metrics(
            user=None if scope == "all" else user,
            since=_parse_instant("since", since),
            until=_parse_instant("until", until),
        )
        return MetricsOut.model_validate({**m._asdict(), "scope": scope}, from_attributes=True)

    csv_responses = {
        200: {"description": "CSV, header first", "content": {"text/csv": {}}},
    }

    @app.get(
        f"{PREFIX}/export.csv",
        tags=["export"],
        response_class=StreamingResponse,
        responses={**_AUTH_ERRORS, **csv_responses},
    )
    def export_all(user: User, service: Svc) -> StreamingResponse:
        """Every message of the caller as CSV."""
        return _csv_response(service.export_csv(user), "personal-assistant-export.csv")

    @app.get(
        f"{PREFIX}/sessions/{{session_id}}/export.csv",
        tags=["export"],
        response_class=StreamingResponse,
        responses={**_SESSION_ERRORS, **csv_responses},
    )
    def export_session(
        user: User, service: Svc, session_id: Annotated[str, _sid_param()]
    ) -> StreamingResponse:
        """The messages of one of the caller's sessions as CSV."""
        s = service.get_session(session_id, user=user)
        if s is None:
            raise SessionNotFound(session_id)
        chunks = service.export_csv(user, [s.session_id])
        return _csv_response(chunks, f"session-{s.session_id}.csv")

    return app


def _parse_instant(name: str, value: str | None) -> datetime | None:
    """An ISO 8601 date or date-time as aware UTC (naive means UTC); APIError 422 otherwise."""
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value.strip())
        return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    except (OverflowError, ValueError):
        raise APIError(
            422, f"{name} must be an ISO 8601 date or date-time, e.g. 2026-11-01T00:00:00Z."
        ) from None


def _csv_response(chunks: Iterator[str], filename: str) -> StreamingResponse:
    """Stream CSV chunks; the first two are read now so a database failure is still a 503."""
    head: list[str] = []
    for chunk in chunks:
        head.append(chunk)
        if len(head) == 2:
            break

    def body() -> Iterator[str]:
        yield from head
        yield from chunks

    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _sse_event(data: Any, event: str | None = None) -> str:
    lines = [f"event: {event}"] if event else []
    lines.append("data: " + json.dumps(data, ensure_ascii=False))
    return "\n".join(lines) + "\n\n"


def _reply_out(reply: Any) -> ChatOut:
    """ChatOut from the assistant's ChatReply."""
    return ChatOut.model_validate(reply, from_attributes=True)


def _sse(assistant: Any, message: str, session_id: str) -> Iterator[str]:
    """Server-sent events: `session`, one `delta` per text chunk, then `done` (or `error`)."""
    yield _sse_event({"session_id": session_id}, "session")
    try:
        for chunk in assistant.stream(message, session_id=session_id):
            if chunk:
                yield _sse_event({"text": chunk}, "delta")
    except PAError as exc:
        yield _sse_event({"detail": str(exc)}, "error")
        return
    except Exception as exc:  # boundary: the status line is already sent; report in-band
        log.error("streaming reply failed", exc_info=exc)
        yield _sse_event(
            {"detail": "The reply failed on the server; the error was logged."}, "error"
        )
        return
    yield _sse_event(_reply_out(assistant.last_reply).model_dump(), "done")


def _error(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def _readable(errors: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """One sentence and a JSON-safe list from pydantic's validation errors."""
    parts, clean = [], []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ())]
        where = ".".join(p for p in loc if p != "body") or "body"
        msg = str(err.get("msg", "invalid"))
        parts.append(f"{where}: {msg}")
        clean.append({"loc": loc, "msg": msg, "type": str(err.get("type", ""))})
    return "Invalid input — " + "; ".join(parts[:5]) + ".", clean


def _allowed_methods(request: Request) -> str:
    """Methods served at this path (Starlette names only the first route's); a literal
    path such as /sessions/new wins over a templated one such as /sessions/{session_id}."""
    by_params: dict[int, set[str]] = {}
    for route in request.app.router.routes:
        methods = getattr(route, "methods", None)
        if not methods:
            continue
        match, _ = route.matches({**request.scope, "method": next(iter(methods))})
        if match == Match.FULL:
            params = getattr(route, "path_format", "").count("{")
            by_params.setdefault(params, set()).update(methods)
    return ", ".join(sorted(by_params[min(by_params)])) if by_params else ""


def _install_error_handlers(app: FastAPI) -> None:
    """Every error becomes JSON {detail} with the right status; never a traceback."""

    @app.exception_handler(APIError)
    async def _api_error(_request: Request, exc: APIError) -> JSONResponse:
        return _error(exc.status, exc.detail, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        detail, errors = _readable(list(exc.errors()))
        return JSONResponse({"detail": detail, "errors": errors}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 405:
            return _error(405, "Method not allowed.", {"Allow": _allowed_methods(_request)})
        if exc.status_code == 400 and "parsing the body" in str(exc.detail):
            # FastAPI's answer to a body that is not UTF-8 JSON: a validation error like the rest
            return _error(422, "Invalid input — the request body is not valid JSON (UTF-8).")
        return _error(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(SessionNotFound)
    async def _not_found(_request: Request, exc: SessionNotFound) -> JSONResponse:
        return _error(404, str(exc))

    @app.exception_handler(ValidationError)
    async def _invalid(_request: Request, exc: ValidationError) -> JSONResponse:
        return _error(422, str(exc))

    @app.exception_handler(StorageError)
    async def _storage(_request: Request, exc: StorageError) -> JSONResponse:
        log.error("storage error: %s", exc)
        return _error(503, "The database is not available right now; try again shortly.")

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        # boundary: log the traceback server-side, answer with a sentence
        log.error("unexpected error", exc_info=exc)
        return _error(500, "Something went wrong on the server; the error was logged.")


__all__ = ["create_app", "decode_cursor", "encode_cursor"]

app = create_app()
