"""Service methods for REST API tokens: issue, list, revoke, and the look-up of a token's owner.

A facade mixin: every method opens its transactions through `self.transaction`. Issuing and
revoking are audited in the same transaction (the token's id and name, never the token or its
hash); a disabled owner's token does not log in.
"""

from __future__ import annotations

from datetime import datetime

from pa_core.errors import UserDisabled
from pa_core.models import utcnow
from pa_core.records import ApiTokenRecord, UserRecord
from pa_core.service import audit, tokens
from pa_core.validation import user_id_of


class TokensMixin:
    """Token methods (issue, list, revoke, user_for_token, token_owner) of ConversationService."""

    def issue_token(
        self, user: UserRecord, *, name: str = "api", expires_in_days: int | None = None
    ) -> tuple[str, ApiTokenRecord]:
        """A new API token for `user`: (the token, shown only now; its stored record)."""
        uid = user_id_of(user)
        token, values = tokens.new_token(user_id=uid, name=name, expires_in_days=expires_in_days)
        with self.transaction(write=True, user_id=uid) as conn:
            record = tokens.insert_token(conn, values)
            details = {"token_id": record.id, "name": record.name}
            audit.record(
                conn, actor=user, action="token.create", target=user.username, details=details
            )
            return token, record

    def list_tokens(self, user: UserRecord) -> list[ApiTokenRecord]:
        """The user's API tokens, newest first (revoked and expired ones included)."""
        uid = user_id_of(user)
        with self.transaction(user_id=uid) as conn:
            return tokens.list_tokens(conn, user_id=uid)

    def revoke_token(self, user: UserRecord, token_id: int) -> bool:
        """Revoke one of the user's API tokens; False when it is not theirs or already revoked."""
        uid = user_id_of(user)
        with self.transaction(write=True, user_id=uid) as conn:
            revoked = tokens.revoke_token(conn, user_id=uid, token_id=token_id)
            if revoked:
                details = {"token_id": token_id}
                audit.record(
                    conn, actor=user, action="token.revoke", target=user.username, details=details
                )
        if revoked:
            tokens.note_change()  # committed: this process's cached look-ups are redone
        return revoked

    def user_for_token(self, token: str) -> UserRecord | None:
        """The owner of an active API token, else None; records when it was last used.

        UserDisabled when the owner's account is disabled (the token stays, unusable).
        """
        found = self.token_owner(token)
        return None if found is None else found[0]

    def token_owner(self, token: str) -> tuple[UserRecord, datetime | None] | None:
        """(owner, the token's expiry) of an active API token, else None; as user_for_token."""
        if not tokens.looks_like_token(token):
            return None
        now = utcnow()
        with self.transaction(everyone=True) as conn:
            row = tokens.find_unrevoked(conn, token)
        if row is None or tokens.is_expired(row, now=now):
            return None
        owner = tokens.owner_of(row)
        if owner.is_disabled:
            raise UserDisabled()
        if tokens.needs_touch(row, now=now):
            with self.transaction(write=True, everyone=True) as conn:
                tokens.touch(conn, row.id, now=now)
        return owner, row.expires_at
