"""Service methods of the admin page: users, roles, disabling, retention, the audit log.

A facade mixin: every method opens its transactions through `self.transaction(everyone=True)`
and checks first, in that transaction, that the acting user is an enabled admin (the row is read
again: a record from before a demotion does not count). Each change writes its audit event in
the same transaction; the credentials file is written last, just before the commit, so a failed
file write leaves the database as it was. Nothing here returns message content.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import Connection

import pa_core.auth.credentials as credentials
from pa_core.errors import ValidationError
from pa_core.models import utcnow
from pa_core.records import AuditEvent, UserOverview, UserRecord
from pa_core.service import admin, audit, tokens, users
from pa_core.validation import (
    check_limit,
    check_optional_int,
    check_user_role,
    check_username,
    user_id_of,
)

AUDIT_CSV_BATCH = 1000


class CommandLine:
    """The actor of `python -m pa_core ...`: whoever has the shell is trusted (audited as such)."""

    username = audit.CLI_ACTOR


COMMAND_LINE = CommandLine()
Actor = UserRecord | CommandLine


class RetentionPreview(NamedTuple):
    """What a cleanup with `days` would do now: sessions removed, pinned sessions kept."""

    days: int
    removable: int
    pinned_kept: int


class AdminMixin:
    """Administration for admins; mixed into ConversationService."""

    def _admin(self, conn: Connection, actor: Actor) -> UserRecord | None:
        """The acting admin's fresh row (None for the command line); PermissionDenied else."""
        return None if isinstance(actor, CommandLine) else admin.require_admin(conn, actor)

    def _target(self, conn: Connection, username: Any) -> UserRecord:
        """The user row named `username` (exact, then any case); ValidationError when none."""
        if not isinstance(username, str) or not username.strip():
            raise ValidationError("Choose a user.")
        name = username.strip()
        user = users.find_user(conn, name)
        if user is None:
            matches = [
                u for u in users.list_users(conn) if u.username.casefold() == name.casefold()
            ]
            user = matches[0] if len(matches) == 1 else None
        if user is None:
            raise ValidationError(f"There is no user {name!r}.")
        return user

    def refresh_user(self, user: UserRecord) -> UserRecord | None:
        """The user's row as it is now (role, disabled), or None when it is gone."""
        uid = user_id_of(user)
        with self.transaction(user_id=uid) as conn:
            return admin.find_by_id(conn, uid)

    def admin_users(
        self, actor: Actor, *, auth_config: Path | str | None = None
    ) -> list[UserOverview]:
        """Every user with session and message counts and last activity (one query).

        With `auth_config`, logins of the credentials file that never logged in get their row
        first (as their first login would), so they are listed and can be disabled too.
        """
        if auth_config is not None:
            self._rows_for_logins(actor, auth_config)
        with self.transaction(everyone=True) as conn:
            self._admin(conn, actor)
            return admin.user_overview(conn)

    def _rows_for_logins(self, actor: Actor, auth_config: Path | str) -> None:
        """Create the missing user rows of the credentials file's logins (profile from it)."""
        config = credentials.load_auth_config(auth_config)
        with self.transaction(everyone=True) as conn:
            self._admin(conn, actor)
            known = {u.username.casefold() for u in users.list_users(conn)}
        missing = [
            str(n) for n in config["credentials"]["usernames"] if str(n).casefold() not in known
        ]
        if not missing:
            return
        with self.transaction(write=True, everyone=True) as conn:
            for name in missing:
                try:
                    changes = users.profile_changes(**credentials.user_profile(config, name))
                    users.insert_user(conn, check_username(name), changes)
                except ValidationError:
                    continue  # a name the database refuses never logs in either

    def admin_add_user(
        self,
        actor: Actor,
        username: str,
        password: str,
        *,
        auth_config: Path | str,
        display_name: str | None = None,
        email: str | None = None,
        role: str = "user",
    ) -> UserRecord:
        """Add a login (bcrypt hash in the credentials file) and its user row, audited.

        A row without a login (restored from a backup, say) gets the login: the audit event
        says so (`existing_account`).
        """
        credentials.check_new_username(username)
        credentials.check_new_password(password)
        check_user_role(role)
        display_name = (display_name or "").strip() or None
        email = (email or "").strip() or None
        profile = {"display_name": display_name or username, "email": email, "role": role}
        profile = {k: v for k, v in profile.items() if v is not None}
        with self.transaction(write=True, everyone=True) as conn:
            acting = self._admin(conn, actor)
            existing = users.find_user(conn, username)  # e.g. restored from a backup, no login
            if existing is not None:
                user = users.update_user(conn, existing, profile)
            else:
                user = users.insert_user(conn, username, profile)
            if user is None:
                raise ValidationError(f"An account named {username!r} was just created.")
            details = {"role": role, "existing_account": existing is not None}
            audit.record(conn, actor=acting, action="user.add", target=username, details=details)
            credentials.add_user(
                auth_config,
                username,
                password,
                name=display_name,
                email=email,
                admin=role == "admin",
            )
            return user

    def admin_reset_password(
        self, actor: Actor, username: str, password: str, *, auth_config: Path | str
    ) -> None:
        """Give a login a new password (hashed in the credentials file), audited."""
        credentials.check_new_password(password)
        with self.transaction(write=True, everyone=True) as conn:
            acting = self._admin(conn, actor)
            target = self._target(conn, username)
            audit.record(conn, actor=acting, action="user.password_reset", target=target.username)
            credentials.update_user_entry(auth_config, target.username, password=password)

    def admin_set_disabled(self, actor: Actor, username: str, disabled: bool) -> UserRecord:
        """Disable (True) or enable (False) an account; a disabled one cannot log in anywhere."""
        with self.transaction(write=True, everyone=True) as conn:
            acting = self._admin(conn, actor)
            target = self._target(conn, username)
            if disabled == target.is_disabled:
                return target
            if disabled:
                if acting is not None and acting.id == target.id:
                    raise ValidationError("You cannot disable your own account.")
                admin.keep_an_admin(conn, target)
            action = "user.disable" if disabled else "user.enable"
            audit.record(conn, actor=acting, action=action, target=target.username)
            updated = admin.set_fields(conn, target, disabled_at=utcnow() if disabled else None)
        tokens.note_change()  # committed: API token look-ups cached in this process are redone
        return updated

    def admin_set_role(
        self, actor: Actor, username: str, role: str, *, auth_config: Path | str
    ) -> UserRecord:
        """Make an account 'user' or 'admin' (row and credentials file); one admin always stays."""
        check_user_role(role)
        with self.transaction(write=True, everyone=True) as conn:
            acting = self._admin(conn, actor)
            target = self._target(conn, username)
            if target.role == role:
                return target
            if role != "admin":
                admin.keep_an_admin(conn, target)
            details = {"from": target.role, "to": role}
            audit.record(
                conn, actor=acting, action="user.role", target=target.username, details=details
            )
            updated = admin.set_fields(conn, target, role=role)
            credentials.update_user_entry(auth_config, target.username, role=role)
            return updated

    def retention_preview(self, actor: Actor, older_than_days: int) -> RetentionPreview:
        """How many sessions a cleanup with `older_than_days` would remove (and pinned kept)."""
        with self.transaction(everyone=True) as conn:
            self._admin(conn, actor)
        removable = self.cleanup_old_sessions(older_than_days, dry_run=True)
        return RetentionPreview(older_than_days, removable, self.count_pinned_idle(older_than_days))

    def admin_cleanup(self, actor: Actor, older_than_days: int) -> int:
        """Run the retention cleanup for every user (audited with its counts); how many went."""
        with self.transaction(everyone=True) as conn:
            acting = self._admin(conn, actor)
        return self.cleanup_old_sessions(older_than_days, actor=acting)

    def audit_events(
        self, user: Actor, limit: int = 100, before: AuditEvent | int | None = None
    ) -> list[AuditEvent]:
        """The newest audit events (admins only), older than `before` (an event or its id)."""
        limit = check_limit(limit, maximum=1000)
        before_id = before.id if isinstance(before, AuditEvent) else before
        if before_id is not None:
            before_id = check_optional_int("before", before_id)
        with self.transaction(everyone=True) as conn:
            self._admin(conn, user)
            return audit.list_events(conn, limit=limit, before_id=before_id)

    def audit_csv(self, user: Actor) -> Iterator[str]:
        """The whole audit log as CSV text chunks, newest first (admins only)."""
        with self.transaction(everyone=True) as conn:
            self._admin(conn, user)  # checked before the first chunk is handed out
        return self._audit_chunks(user)

    def _audit_chunks(self, user: Actor) -> Iterator[str]:
        """Header, then the events in keyset batches of one read transaction each."""
        yield audit.csv_header()
        before_id = None
        while True:
            with self.transaction(everyone=True) as conn:
                self._admin(conn, user)
                batch = audit.list_events(conn, limit=AUDIT_CSV_BATCH, before_id=before_id)
            if not batch:
                return
            yield audit.csv_rows(batch)
            before_id = batch[-1].id
