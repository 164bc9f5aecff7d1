"""The one place that creates or updates a user's row from the credentials file, and the one
place that refuses a disabled account (UI form and cookie, API Basic and tokens, CLI)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pa_core.auth.credentials import AuthConfigError, find_username, user_profile
from pa_core.errors import UserDisabled
from pa_core.records import UserRecord

if TYPE_CHECKING:  # only for the annotation: the auth policy itself needs no database
    from pa_core.service import ConversationService


class UnknownUser(AuthConfigError):
    """The credentials file names no such user (any more)."""


def sync_user(service: ConversationService, config: dict[str, Any], username: str) -> UserRecord:
    """The row of the config user `username` names (any case), created or updated from the file.

    The row's username is the config's spelling, so `Alice` and `alice` are one user. A row an
    administrator disabled raises UserDisabled: the password may be right, the login is not.
    """
    name = find_username(config, username)
    if name is None:
        raise UnknownUser(f"No user {username!r} in the credentials file.")
    user = service.ensure_user(name, **user_profile(config, name))
    if user.is_disabled:
        raise UserDisabled()
    return user


def ensure_active(service: ConversationService, user: UserRecord) -> UserRecord:
    """The user's current row (role and all); UserDisabled when it was disabled meanwhile."""
    fresh = service.refresh_user(user)
    if fresh is None:
        raise UnknownUser(f"No user {user.username!r} any more.")
    if fresh.is_disabled:
        raise UserDisabled()
    return fresh
