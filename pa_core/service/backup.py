"""Admin backup and restore of every user's conversations (a facade mixin and its format).

A backup is JSON lines: a header line {"format": "personal-assistant-backup", "version": 1,
"exported_at"}, then for each user (by username) a line {"user": {...}} followed by one line
{"session": {...}} per session of theirs, with its messages, in the JSON export's fields.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from pa_core.errors import ValidationError
from pa_core.models import utcnow
from pa_core.records import ImportReport, UserRecord
from pa_core.service import export_json, own_format, users
from pa_core.service.import_source import ImportSource
from pa_core.service.imports import PreparedSession, parse_timestamp
from pa_core.service.jsonstream import JsonReader
from pa_core.validation import check_user_role, check_username

FORMAT = "personal-assistant-backup"
VERSION = 1
MAX_LINE_CHARS = 256 * 1024**2
USER_FIELDS = ("username", "display_name", "email", "role", "created_at")


def header_line(exported_at: datetime) -> str:
    """The first line of a backup."""
    return (
        export_json.dumps(
            {"format": FORMAT, "version": VERSION, "exported_at": exported_at.isoformat()}
        )
        + "\n"
    )


def user_line(user: UserRecord) -> str:
    """The line that starts a user's part of the backup."""
    values = {f: getattr(user, f) for f in USER_FIELDS}
    values["created_at"] = user.created_at.isoformat()
    return export_json.dumps({"user": values}) + "\n"


def _user_values(raw: Any, *, where: str) -> dict[str, Any]:
    """The checked columns of a user line."""
    if not isinstance(raw, dict):
        raise ValidationError(f"{where}: the user is not an object.")
    for field in ("display_name", "email"):
        if raw.get(field) is not None and not isinstance(raw.get(field), str):
            raise ValidationError(f"{where}: {field} must be text.")
    return {
        "username": check_username(raw.get("username")),
        "display_name": raw.get("display_name"),
        "email": raw.get("email"),
        "role": check_user_role(raw.get("role", "user")),
        "created_at": parse_timestamp(raw.get("created_at"), where=f"{where} created_at"),
    }


def read_backup(source: ImportSource) -> Iterator[tuple[str, Any]]:
    """("user", values) and ("session", PreparedSession) items of a backup, checked."""
    reader = JsonReader(source.text_chunks(), max_value_chars=MAX_LINE_CHARS)
    head = reader.value() if reader.peek() == "{" else None
    if not isinstance(head, dict) or head.get("format") != FORMAT:
        raise ValidationError("The file is not a Personal Assistant backup.")
    if head.get("version") != VERSION:
        raise ValidationError(f"The backup's version {head.get('version')!r} is not supported.")
    line, have_user = 1, False
    while reader.peek():
        line += 1
        item = reader.value()
        if isinstance(item, dict) and set(item) == {"user"}:
            have_user = True
            yield "user", _user_values(item["user"], where=f"Line {line}")
        elif isinstance(item, dict) and set(item) == {"session"} and have_user:
            yield "session", own_format.prepare(item["session"], index=line - 1)
        else:
            raise ValidationError(f"Line {line} of the backup is neither a user nor a session.")


class BackupMixin:
    """backup and restore_backup; mixed into ConversationService."""

    def backup(self) -> Iterator[str]:
        """Every user's sessions, messages and feedback as JSON lines text chunks."""
        yield header_line(utcnow())
        for user in self.list_users():
            yield user_line(user)
            for batch in self._session_batches(user.id, None):
                yield from export_json.session_chunks(
                    batch,
                    self._message_rows(user.id, batch),
                    first_lead='{"session": ',
                    lead='{"session": ',
                    tail="}\n",
                )

    def restore_backup(
        self, source: Any, *, progress: Callable[[int], None] | None = None
    ) -> ImportReport:
        """Restore a backup (idempotent: what is already there is skipped); checked first."""
        source = ImportSource(source, limited=False)
        try:
            for _item in read_backup(source):
                pass  # the whole file is checked before anything is written
            return self.import_prepared_all(read_backup(source), progress=progress)
        finally:
            source.close()

    def import_prepared_all(
        self, items: Iterator[tuple[str, Any]], *, progress: Callable[[int], None] | None
    ) -> ImportReport:
        """Write the users and sessions of a read backup."""
        totals = [0, 0, 0]
        warnings: list[str] = []
        done = 0

        def sessions_of_user() -> Iterator[PreparedSession]:
            nonlocal pending
            while pending is not None and pending[0] == "session":
                yield pending[1]
                pending = next(items, None)

        pending = next(items, None)
        while pending is not None:
            user = self._restore_user(pending[1])
            pending = next(items, None)
            report = self.import_prepared(sessions_of_user(), user=user)
            for i, n in enumerate(report[:3]):
                totals[i] += n
            warnings.extend(report.warnings)
            done += report.sessions_imported + report.sessions_skipped
            if progress is not None:
                progress(done)
        return ImportReport(*totals, warnings)

    def _restore_user(self, values: dict[str, Any]) -> UserRecord:
        """The user row named in a backup, created with its original fields when missing."""
        with self.transaction(write=True) as conn:
            user = users.find_user(conn, values["username"])
            if user is None:
                changes = {k: v for k, v in values.items() if k != "username"}
                user = users.insert_user(conn, values["username"], changes)
        return user if user is not None else self.ensure_user(values["username"])
