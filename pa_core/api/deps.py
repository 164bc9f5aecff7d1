"""Dependencies of the routes: the app's state, its service and settings, and the caller."""

from __future__ import annotations

import base64
import binascii
import logging
from typing import Annotated

from fastapi import Depends, Path, Query, Request, Security
from fastapi.security import HTTPBasic, HTTPBearer
from starlette.concurrency import run_in_threadpool

from pa_core.api.errors import APIError
from pa_core.api.schemas import NoQuery
from pa_core.api.state import ApiState
from pa_core.auth import AuthConfigError, TooManyFailedLogins
from pa_core.config import Settings
from pa_core.errors import UserDisabled, ValidationError
from pa_core.records import UserRecord
from pa_core.service import ConversationService

log = logging.getLogger(__name__)

REALM = "personal-assistant"
UNAUTHORIZED = {
    "WWW-Authenticate": f'Basic realm="{REALM}", charset="UTF-8", Bearer realm="{REALM}"'
}


class _RawAuthorization:
    """An OpenAPI security scheme that hands over the raw Authorization header; we parse it."""

    async def __call__(self, request: Request) -> str | None:
        """The Authorization header as sent, or None."""
        return request.headers.get("Authorization")


class _BasicScheme(_RawAuthorization, HTTPBasic):
    """Declares HTTP Basic in OpenAPI; the header is parsed by us (UTF-8, RFC 7617)."""


class _BearerScheme(_RawAuthorization, HTTPBearer):
    """Declares bearer API tokens in OpenAPI; the header is parsed by us."""


basic_scheme = _BasicScheme(scheme_name="basicAuth", realm=REALM, auto_error=False)
bearer_scheme = _BearerScheme(
    scheme_name="apiToken",
    description="An API token from `python -m pa_core token create USER`.",
    auto_error=False,
)


def parse_bearer(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer ...` header, else None."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def parse_basic(header: str | None) -> tuple[str, str] | None:
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


# The dependencies below are `async` so that FastAPI calls them on the event loop: a plain
# function would cost a hop to the thread pool each, per request.


async def get_state(request: Request) -> ApiState:
    """The ApiState of the app serving this request."""
    return request.app.state.pa


async def get_service(request: Request) -> ConversationService:
    """The app's ConversationService (the first call migrates in a worker thread; StorageError
    if the database is down)."""
    state: ApiState = request.app.state.pa
    return state.ready_service() or await run_in_threadpool(state.service)


async def get_app_settings(request: Request) -> Settings:
    """The Settings the app was built with."""
    return request.app.state.pa.settings


State = Annotated[ApiState, Depends(get_state)]
Service = Annotated[ConversationService, Depends(get_service)]
AppSettings = Annotated[Settings, Depends(get_app_settings)]
NoParams = Annotated[NoQuery, Query()]
SessionId = Annotated[
    str,
    Path(
        description="The session's UUID; another user's session is reported as not found.",
        max_length=64,
    ),
]


def _authenticate(state: ApiState, header: str | None, address: str | None) -> UserRecord | None:
    """The user the Authorization header proves (token or Basic), else None."""
    token = parse_bearer(header)
    if token is not None:
        return state.authenticator.authenticate_token(token, state.service())
    creds = parse_basic(header)
    if creds is None:
        raise APIError(401, "Credentials are required (HTTP Basic or an API token).", UNAUTHORIZED)
    return state.authenticator.authenticate(*creds, state.service(), address)


async def current_user(
    request: Request,
    state: State,
    header: Annotated[str | None, Security(basic_scheme)],
    _bearer: Annotated[str | None, Security(bearer_scheme)],
) -> UserRecord:
    """The caller; 401 without valid credentials, 403 when disabled, 429 while paused.

    A token the cache knows is checked on the event loop; everything that may block (a
    database look-up, bcrypt) runs in a worker thread. The address is the peer's (uvicorn puts
    X-Forwarded-For's there only for trusted proxies).
    """
    address = request.client.host if request.client else None
    try:
        token = parse_bearer(header)
        user = state.authenticator.cached_token_user(token) if token else None
        if user is None:
            user = await run_in_threadpool(_authenticate, state, header, address)
    except AuthConfigError as exc:
        log.error("auth config unreadable: %s", exc)
        raise APIError(503, "The login configuration cannot be read.") from None
    except ValidationError:  # a username the database refuses (e.g. too long)
        user = None
    except TooManyFailedLogins as exc:
        raise APIError(429, str(exc), {"Retry-After": str(exc.retry_after_s)}) from None
    except UserDisabled as exc:  # right credentials, but an administrator disabled the account
        raise APIError(403, str(exc)) from None
    if user is None:
        wrong = "That API token is not valid." if parse_bearer(header) else None
        raise APIError(401, wrong or "Wrong username or password.", UNAUTHORIZED)
    return user


CurrentUser = Annotated[UserRecord, Depends(current_user)]
