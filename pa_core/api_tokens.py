"""Per-user REST API tokens: issued by the CLI, shown once, stored as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import insert, select, update

from pa_core.errors import ValidationError
from pa_core.models import ApiToken, utcnow
from pa_core.records import UserRecord
from pa_core.service import USER_COLUMNS, USERS, ConversationService

TOKENS = ApiToken.__table__
TOKEN_PREFIX = "pa_"
SHOWN_PREFIX_CHARS = 10  # "pa_" + 7 characters, enough to tell tokens apart in a list
MAX_TOKEN_CHARS = 200
MAX_NAME_CHARS = 100
LAST_USED_RESOLUTION = timedelta(minutes=1)  # last_used_at is written at most once a minute


class ApiTokenRecord(NamedTuple):
    """A token's metadata (never the token itself)."""

    id: int
    user_id: int
    name: str
    token_prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        """Not revoked and not expired."""
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > utcnow())


_RECORD_COLUMNS = [TOKENS.c[f] for f in ApiTokenRecord._fields]


def hash_token(token: str) -> str:
    """The SHA-256 hex digest stored for a token (tokens are 256-bit random, so no salt)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def issue_token(
    service: ConversationService,
    user: UserRecord,
    *,
    name: str = "api",
    expires_in_days: int | None = None,
) -> tuple[str, ApiTokenRecord]:
    """A new token for `user`: (the token, shown only now; its stored record)."""
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME_CHARS or "\x00" in name:
        raise ValidationError(f"A token name needs 1-{MAX_NAME_CHARS} characters.")
    if expires_in_days is not None and (
        isinstance(expires_in_days, bool)
        or not isinstance(expires_in_days, int)
        or not 1 <= expires_in_days <= 3650
    ):
        raise ValidationError("expires_in_days must be a whole number from 1 to 3650.")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    values = {
        "user_id": user.id,
        "name": name,
        "token_prefix": token[:SHOWN_PREFIX_CHARS],
        "token_hash": hash_token(token),
        "created_at": now,
        "expires_at": None if expires_in_days is None else now + timedelta(days=expires_in_days),
        "last_used_at": None,
        "revoked_at": None,
    }
    with service.transaction(write=True) as conn:
        new_id = conn.execute(insert(TOKENS).values(**values).returning(TOKENS.c.id)).scalar_one()
    values.pop("token_hash")
    return token, ApiTokenRecord(id=new_id, **values)


def list_tokens(service: ConversationService, user: UserRecord) -> list[ApiTokenRecord]:
    """The user's tokens, newest first (revoked and expired ones included)."""
    with service.transaction() as conn:
        rows = conn.execute(
            select(*_RECORD_COLUMNS).where(TOKENS.c.user_id == user.id).order_by(TOKENS.c.id.desc())
        ).all()
    return [ApiTokenRecord._make(r) for r in rows]


def revoke_token(service: ConversationService, user: UserRecord, token_id: int) -> bool:
    """Revoke one of the user's tokens; False when it is not theirs or already revoked."""
    with service.transaction(write=True) as conn:
        result = conn.execute(
            update(TOKENS)
            .where(
                TOKENS.c.id == token_id,
                TOKENS.c.user_id == user.id,
                TOKENS.c.revoked_at.is_(None),
            )
            .values(revoked_at=utcnow())
        )
    return result.rowcount == 1


def user_for_token(service: ConversationService, token: str) -> UserRecord | None:
    """The owner of an active token, else None; records when it was last used."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > MAX_TOKEN_CHARS:
        return None
    now = utcnow()
    with service.transaction() as conn:
        row = conn.execute(
            select(TOKENS.c.id, TOKENS.c.expires_at, TOKENS.c.last_used_at, *USER_COLUMNS)
            .join(USERS, USERS.c.id == TOKENS.c.user_id)
            .where(TOKENS.c.token_hash == hash_token(token), TOKENS.c.revoked_at.is_(None))
        ).first()
    if row is None or (row.expires_at is not None and row.expires_at <= now):
        return None
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        with service.transaction(write=True) as conn:
            conn.execute(update(TOKENS).where(TOKENS.c.id == row.id).values(last_used_at=now))
    return UserRecord._make(row[3:])
