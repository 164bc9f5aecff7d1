"""Service methods that move conversations in and out: JSON and Markdown export, import.

A facade mixin: every method opens its transactions through `self.transaction`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from sqlalchemy.exc import IntegrityError

from pa_core.errors import SessionNotFound
from pa_core.models import utcnow
from pa_core.records import ImportReport, UserRecord
from pa_core.service import (
    audit,
    export_json,
    import_reader,
    imports,
    markdown,
    messages,
    sessions,
)
from pa_core.service.import_source import ImportSource
from pa_core.service.imports import PreparedSession
from pa_core.validation import canonical_session_ids, session_id_or_raise, user_id_of

Progress = Callable[[int], None]


class TransferMixin:
    """export_json, export_markdown, import_conversations; mixed into ConversationService."""

    def export_json(self, user: UserRecord, session_ids: list[str] | None = None) -> Iterator[str]:
        """Text chunks of one JSON document with every field of the user's sessions (or these)."""
        uid = user_id_of(user)
        sids = canonical_session_ids(session_ids, unique=True)
        yield export_json.document_head(user.username, utcnow())
        lead = ""
        for batch in self._session_batches(uid, sids):
            yield from export_json.session_chunks(
                batch, self._session_messages(uid), first_lead=lead, lead=",\n", tail=""
            )
            lead = ",\n"
        yield export_json.DOCUMENT_TAIL

    def _session_batches(self, uid: int, sids: list[str] | None) -> Iterator[list[Any]]:
        """The user's sessions in keyset batches, one read transaction each."""
        if sids is not None and not sids:
            return
        after = 0
        while True:
            with self.transaction(user_id=uid) as conn:
                batch = export_json.session_batch(
                    conn, user_id=uid, session_ids=sids, after_id=after
                )
            if not batch:
                return
            yield batch
            after = batch[-1][0]

    def _session_messages(self, uid: int) -> Callable[[Any], Iterator[Any]]:
        """`messages_of(session row)`: its messages in order, read in keyset batches."""

        def messages_of(session: Any) -> Iterator[Any]:
            after = 0
            while True:
                with self.transaction(user_id=uid) as conn:
                    rows = export_json.message_batch(
                        conn, session_id=session.session_id, after=after
                    )
                yield from rows
                if len(rows) < export_json.MESSAGE_BATCH:
                    return
                after = rows[-1][0]

        return messages_of

    def export_markdown(self, user: UserRecord, session_id: Any) -> str:
        """One of the user's conversations as Markdown; SessionNotFound when it is not theirs."""
        sid = session_id_or_raise(session_id)
        uid = user_id_of(user)
        with self.transaction(user_id=uid) as conn:
            record = sessions.find_session(conn, sid, user_id=uid)
            if record is None:
                raise SessionNotFound(sid)
            rows = messages.all_messages(conn, sid, user_id=uid, sqlite=self._sqlite)
        return markdown.render(record, rows)

    def import_conversations(
        self, user: UserRecord, source: Any, *, progress: Progress | None = None
    ) -> ImportReport:
        """Import a ChatGPT export (JSON or zip) or this project's JSON export for `user`.

        The whole file is checked first (a broken one imports nothing); then each conversation
        is written in its own transaction. `progress(n)` gets the conversations handled so far.
        """
        user_id_of(user)  # a bad user record fails before the file is read
        source = ImportSource(source)
        try:
            import_reader.validate(source, username=user.username)
            prepared = import_reader.read_conversations(source, username=user.username)
            report = self._import_prepared(prepared, user=user, progress=progress)
        finally:
            source.close()
        self._audit_import(user, "import", user.username, report)
        return report

    def _audit_import(
        self, actor: UserRecord | None, action: str, target: str | None, report: ImportReport
    ) -> None:
        """Audit a finished import or restore with its counts (each session had its own
        transaction, so the event gets one of its own)."""
        details = {
            "sessions_imported": report.sessions_imported,
            "sessions_skipped": report.sessions_skipped,
            "messages_imported": report.messages_imported,
            "warnings": len(report.warnings),
        }
        uid = None if actor is None else actor.id
        everyone = actor is None or action == "restore"
        with self.transaction(write=True, user_id=uid, everyone=everyone) as conn:
            audit.record(conn, actor=actor, action=action, target=target, details=details)

    def _import_prepared(
        self,
        prepared: Iterable[PreparedSession],
        *,
        user: UserRecord,
        progress: Progress | None = None,
    ) -> ImportReport:
        """Write checked conversations for `user`, skipping the ones they already have."""
        uid = user_id_of(user)
        imported = skipped = count = 0
        warnings: list[str] = []
        for done, item in enumerate(prepared, 1):
            written = None if item.skip_reason else self._import_one(item, uid, user.username)
            if written is None:
                skipped += 1
            else:
                imported, count = imported + 1, count + written
            if item.skip_reason or written is not None:
                for warning in item.warnings:
                    imports.add_warning(warnings, warning)
            if progress is not None:
                progress(done)
        return ImportReport(imported, skipped, count, warnings)

    def _import_one(self, item: PreparedSession, uid: int, username: str) -> int | None:
        """Insert one conversation in one transaction; None when the user already has it.

        The id is chosen on the everyone path: row-level security hides another user's session
        in this user's scope, but its id is taken all the same (docs/SECURITY.md).
        """
        for attempt in range(2):
            with self.transaction(everyone=True) as conn:
                sid = imports.target_session_id(conn, item, user_id=uid, username=username)
            if sid is None:
                return None
            try:
                with self.transaction(write=True, user_id=uid) as conn:
                    return imports.insert_session(conn, item, sid=sid, user_id=uid)
            except IntegrityError:
                # a concurrent import stored the same session first: look again, once
                if attempt:
                    raise
        return None
