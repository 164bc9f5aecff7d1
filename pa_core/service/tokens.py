"""Per-user REST API tokens: shown once, stored as SHA-256 hashes (caller's transaction)."""

from __future__ import annotations

import hashlib
import itertools
import secrets
from datetime import datetime, timedelta

from sqlalchemy import Connection, Row, insert, select, update

from pa_core.errors import ValidationError
from pa_core.models import utcnow
from pa_core.records import ApiTokenRecord, UserRecord
from pa_core.service.tables import TOKEN_COLUMNS, TOKENS, USER_COLUMNS, USERS

TOKEN_PREFIX = "pa_"
SHOWN_PREFIX_CHARS = 10  # "pa_" + 7 characters, enough to tell tokens apart in a list
MAX_TOKEN_CHARS = 200
MAX_NAME_CHARS = 100
MAX_EXPIRY_DAYS = 3650
LAST_USED_RESOLUTION = timedelta(minutes=1)  # last_used_at is written at most once a minute
_changes = itertools.count(1)
_last_change = 0


def note_change() -> None:
    """Record, after its commit, that a token was revoked or a user disabled in this process:
    token look-ups cached in this process are then done again (pa_core.api.token_cache)."""
    global _last_change
    _last_change = next(_changes)


def last_change() -> int:
    """The number of the last note_change() of this process (0: none yet)."""
    return _last_change


def hash_token(token: str) -> str:
    """The SHA-256 hex digest stored for a token (tokens are 256-bit random, so no salt)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_token(
    *, user_id: int, name: str, expires_in_days: int | None
) -> tuple[str, dict[str, object]]:
    """A fresh token and the row to store for it (checks the name and the expiry)."""
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME_CHARS or "\x00" in name:
        raise ValidationError(f"A token name needs 1-{MAX_NAME_CHARS} characters.")
    if expires_in_days is not None and (
        isinstance(expires_in_days, bool)
        or not isinstance(expires_in_days, int)
        or not 1 <= expires_in_days <= MAX_EXPIRY_DAYS
    ):
        raise ValidationError(
            f"expires_in_days must be a whole number from 1 to {MAX_EXPIRY_DAYS}."
        )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    values = {
        "user_id": user_id,
        "name": name,
        "token_prefix": token[:SHOWN_PREFIX_CHARS],
        "token_hash": hash_token(token),
        "created_at": now,
        "expires_at": None if expires_in_days is None else now + timedelta(days=expires_in_days),
        "last_used_at": None,
        "revoked_at": None,
    }
    return token, values


def insert_token(conn: Connection, values: dict[str, object]) -> ApiTokenRecord:
    """Store a row made by new_token; its record (without the hash)."""
    new_id = conn.execute(insert(TOKENS).values(**values).returning(TOKENS.c.id)).scalar_one()
    fields = {k: v for k, v in values.items() if k != "token_hash"}
    return ApiTokenRecord(id=new_id, **fields)


def list_tokens(conn: Connection, *, user_id: int) -> list[ApiTokenRecord]:
    """The user's tokens, newest first (revoked and expired ones included)."""
    rows = conn.execute(
        select(*TOKEN_COLUMNS).where(TOKENS.c.user_id == user_id).order_by(TOKENS.c.id.desc())
    ).all()
    return [ApiTokenRecord._make(r) for r in rows]


def revoke_token(conn: Connection, *, user_id: int, token_id: int) -> bool:
    """Revoke one of the user's tokens; False when it is not theirs or already revoked."""
    result = conn.execute(
        update(TOKENS)
        .where(
            TOKENS.c.id == token_id,
            TOKENS.c.user_id == user_id,
            TOKENS.c.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
    )
    return result.rowcount == 1


def looks_like_token(token: str) -> bool:
    """True when `token` has the shape of one of ours (worth a database look-up)."""
    return token.startswith(TOKEN_PREFIX) and len(token) <= MAX_TOKEN_CHARS


def find_unrevoked(conn: Connection, token: str) -> Row | None:
    """The token's id, expiry, last use and owner's user columns, unless revoked or unknown."""
    return conn.execute(
        select(TOKENS.c.id, TOKENS.c.expires_at, TOKENS.c.last_used_at, *USER_COLUMNS)
        .join(USERS, USERS.c.id == TOKENS.c.user_id)
        .where(TOKENS.c.token_hash == hash_token(token), TOKENS.c.revoked_at.is_(None))
    ).first()


def is_expired(row: Row, *, now: datetime) -> bool:
    """True when the token of a find_unrevoked row has expired."""
    return row.expires_at is not None and row.expires_at <= now


def needs_touch(row: Row, *, now: datetime) -> bool:
    """True when last_used_at of a find_unrevoked row is older than LAST_USED_RESOLUTION."""
    return row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION


def touch(conn: Connection, token_id: int, *, now: datetime) -> None:
    """Record that the token was used at `now`."""
    conn.execute(update(TOKENS).where(TOKENS.c.id == token_id).values(last_used_at=now))


def owner_of(row: Row) -> UserRecord:
    """The owner's UserRecord from a find_unrevoked row."""
    return UserRecord._make(row[3:])
