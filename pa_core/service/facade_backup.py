"""Service methods for the admin backup and restore of every user's conversations.

A facade mixin: every method opens its transactions through `self.transaction`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from pa_core.models import utcnow
from pa_core.records import ImportReport, UserRecord
from pa_core.service import audit, export_json, users
from pa_core.service.backup import header_line, read_backup, user_line
from pa_core.service.import_source import ImportSource
from pa_core.service.imports import PreparedSession


class BackupMixin:
    """backup and restore_backup; mixed into ConversationService."""

    def backup(self, *, actor: UserRecord | None = None) -> Iterator[str]:
        """Every user's sessions, messages and feedback as JSON lines text chunks.

        Audited (`actor`, None for the command line) when the first chunk is asked for.
        """
        everyone = self.list_users()
        with self.transaction(write=True, everyone=True) as conn:
            audit.record(conn, actor=actor, action="backup", details={"users": len(everyone)})
        yield header_line(utcnow())
        for user in everyone:
            yield user_line(user)
            for batch in self._session_batches(user.id, None):
                yield from export_json.session_chunks(
                    batch,
                    self._session_messages(user.id),
                    first_lead='{"session": ',
                    lead='{"session": ',
                    tail="}\n",
                )

    def restore_backup(
        self,
        source: Any,
        *,
        progress: Callable[[int], None] | None = None,
        actor: UserRecord | None = None,
    ) -> ImportReport:
        """Restore a backup (idempotent: what is already there is skipped); checked first.

        Audited with its counts once it is done (`actor`, None for the command line).
        """
        source = ImportSource(source, limited=False)
        try:
            for _item in read_backup(source):
                pass  # the whole file is checked before anything is written
            report = self._restore_items(read_backup(source), progress=progress)
        finally:
            source.close()
        self._audit_import(actor, "restore", None, report)
        return report

    def _restore_items(
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
            report = self._import_prepared(sessions_of_user(), user=user)
            for i, n in enumerate(report[:3]):
                totals[i] += n
            warnings.extend(report.warnings)
            done += report.sessions_imported + report.sessions_skipped
            if progress is not None:
                progress(done)
        return ImportReport(*totals, warnings)

    def _restore_user(self, values: dict[str, Any]) -> UserRecord:
        """The user row named in a backup, created with its original fields when missing."""
        with self.transaction(write=True, everyone=True) as conn:
            user = users.find_user(conn, values["username"])
            if user is None:
                changes = {k: v for k, v in values.items() if k != "username"}
                user = users.insert_user(conn, values["username"], changes)
        return user if user is not None else self.ensure_user(values["username"])
