"""The audit log: who did what and when (in the caller's transaction, so it commits with the act).

Details are small facts (ids, counts, roles, names of things), never message content, passwords,
tokens or their hashes: `record` refuses keys that name a secret and any long or nested value.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, insert, select

from pa_core.models import utcnow
from pa_core.records import AuditEvent, UserRecord
from pa_core.service.export import safe_cell
from pa_core.service.tables import AUDIT, AUDIT_COLUMNS

CLI_ACTOR = "(command line)"  # parentheses never occur in a username
ACTIONS = frozenset(
    {
        "user.add",
        "user.disable",
        "user.enable",
        "user.role",
        "user.password_reset",
        "cleanup",
        "backup",
        "restore",
        "import",
        "token.create",
        "token.revoke",
    }
)
SECRET_KEYS = frozenset({"password", "token", "secret", "content", "hash", "token_hash", "key"})
MAX_DETAIL_CHARS = 200
MAX_TARGET_CHARS = 255
CSV_COLUMNS = ("id", "at", "actor_username", "action", "target", "details")


class UnsafeAuditDetail(ValueError):
    """A programming error: an audit detail that could carry content or a secret."""


def safe_details(details: dict[str, Any] | None) -> dict[str, Any] | None:
    """`details` when every key is harmless and every value a number, flag or short text."""
    if not details:
        return None
    for key, value in details.items():
        if key.casefold() in SECRET_KEYS:
            raise UnsafeAuditDetail(f"audit details may not hold {key!r}")
        if isinstance(value, str):
            if len(value) > MAX_DETAIL_CHARS:
                raise UnsafeAuditDetail(f"audit detail {key!r} is too long to be a fact")
        elif value is not None and not isinstance(value, bool | int | float):
            raise UnsafeAuditDetail(f"audit detail {key!r} must be a number, flag or short text")
    return dict(details)


def record(
    conn: Connection,
    *,
    actor: UserRecord | None,
    action: str,
    target: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append one event; `actor` None means the command line."""
    if action not in ACTIONS:
        raise UnsafeAuditDetail(f"unknown audit action {action!r}")
    conn.execute(
        insert(AUDIT).values(
            at=utcnow(),
            actor_user_id=None if actor is None else actor.id,
            actor_username=CLI_ACTOR if actor is None else actor.username,
            action=action,
            target=None if target is None else target[:MAX_TARGET_CHARS],
            details=safe_details(details),
        )
    )


def list_events(conn: Connection, *, limit: int, before_id: int | None) -> list[AuditEvent]:
    """Up to `limit` events, newest first, older than event `before_id` when given."""
    query = select(*AUDIT_COLUMNS).order_by(AUDIT.c.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(AUDIT.c.id < before_id)
    return [AuditEvent._make(row) for row in conn.execute(query)]


def csv_header() -> str:
    """The audit CSV's header row."""
    return csv_rows([], header=True)


def csv_rows(events: Iterable[AuditEvent], *, header: bool = False) -> str:
    """CSV text of `events` (times ISO 8601 UTC, details as JSON), cells guarded like exports."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if header:
        writer.writerow(CSV_COLUMNS)
    for e in events:
        details = json.dumps(e.details, sort_keys=True) if e.details else ""
        writer.writerow(
            [
                e.id,
                e.at.isoformat(),
                safe_cell(e.actor_username),
                safe_cell(e.action),
                safe_cell(e.target),
                safe_cell(details),
            ]
        )
    return buffer.getvalue()
