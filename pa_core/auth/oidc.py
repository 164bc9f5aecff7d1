"""Users of single sign-on (PA_AUTH_MODE=oidc): the row for the claims of a verified ID token.

Streamlit's `st.login` checks the token (signature, issuer, audience, nonce); this module only
turns its claims into a username, a profile and a role, the same way for every front end.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pa_core.errors import UserDisabled, ValidationError
from pa_core.records import UserRecord
from pa_core.validation import check_username

if TYPE_CHECKING:  # only for the annotation: the auth policy itself needs no database
    from pa_core.service import ConversationService

MAX_PROFILE_CHARS = 255


class MissingClaims(ValidationError):
    """The ID token names nobody this app can use (no username, e-mail or subject)."""


def oidc_username(claims: Mapping[str, Any]) -> str:
    """preferred_username, else a verified e-mail, else `sub`; case-folded, checked."""
    email = claims.get("email") if claims.get("email_verified") is not False else None
    for value in (claims.get("preferred_username"), email, claims.get("sub")):
        if isinstance(value, str) and value.strip():
            return check_username(value.strip().casefold())
    raise MissingClaims("The sign-in did not say who you are (no username or e-mail).")


def groups_of(claims: Mapping[str, Any], group_claim: str = "groups") -> list[str]:
    """The groups the ID token lists under `group_claim` (a list, or one string)."""
    value = claims.get(group_claim)
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [g for g in value if isinstance(g, str)]
    return []


def oidc_profile(
    claims: Mapping[str, Any], *, admin_group: str | None, group_claim: str = "groups"
) -> dict[str, str | None]:
    """display_name, email and role from the claims; role None when no admin group is set."""

    def text(name: str) -> str | None:
        value = claims.get(name)
        return value.strip()[:MAX_PROFILE_CHARS] or None if isinstance(value, str) else None

    role = None
    if admin_group:
        role = "admin" if admin_group in groups_of(claims, group_claim) else "user"
    return {"display_name": text("name"), "email": text("email"), "role": role}


def sync_oidc_user(
    service: ConversationService,
    claims: Mapping[str, Any],
    *,
    admin_group: str | None,
    group_claim: str = "groups",
) -> UserRecord:
    """The user row for these claims, created on first login and updated on each one.

    UserDisabled when an administrator disabled the account: the provider's word is not enough.
    """
    profile = oidc_profile(claims, admin_group=admin_group, group_claim=group_claim)
    user = service.ensure_user(oidc_username(claims), **profile)
    if user.is_disabled:
        raise UserDisabled()
    return user
