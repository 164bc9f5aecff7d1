"""Import and export on the Sessions and Chat pages: the uploader, its report, the downloads.

Nothing heavy lives in st.session_state: downloads are generated when clicked (or, when large,
written to a private temporary file whose path is kept), the uploaded file is handed to the
service as a file object, and only the import's counts and first warnings are remembered.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

import streamlit as st

from pa_core import ConversationService, PAError, SessionRecord, UserRecord
from ui import exports, state
from ui import format as fmt

REPORT_KEY = "pa_import_report"  # the last import: file name, counts, first warnings (or error)
UPLOADER_KEY = "pa_import_generation"  # bumped after an import: a fresh, empty uploader
PREPARED_KEY = "pa_sessions_export"  # {kind: ((selection, total), file path)} of large exports
MAX_WARNINGS_KEPT = 20
PROGRESS_EVERY_S = 0.2
IMPORT_TYPES = ["json", "zip"]
KINDS = {  # kind -> (label, file extension, MIME type)
    "csv": ("CSV", "csv", "text/csv"),
    "json": ("JSON", "json", "application/json"),
    "md": ("Markdown", "md", "text/markdown"),
}
logger = logging.getLogger(__name__)


# --- import -------------------------------------------------------------------------------


def import_section(svc: ConversationService, user: UserRecord) -> None:
    """Upload a ChatGPT export or this app's JSON export, import it with progress, report."""
    with st.expander("Import conversations", icon=":material/upload:"):
        st.caption(
            "A ChatGPT export (the .zip, or the conversations.json inside it) or a JSON export "
            "of this app. Titles and times are kept; importing the same file again adds nothing."
        )
        generation = st.session_state.get(UPLOADER_KEY, 0)
        uploaded = st.file_uploader(
            "Conversations file", type=IMPORT_TYPES, key=f"pa-import-file-{generation}"
        )
        clicked = st.button("Import", type="primary", disabled=uploaded is None, key="pa-import-go")
        slot = st.empty()  # drawn on every run, so the next run replaces the progress shown here
        if clicked:
            st.session_state[REPORT_KEY] = run_import(svc, user, uploaded, slot=slot)
            st.session_state[UPLOADER_KEY] = generation + 1  # lets go of the uploaded bytes
            st.rerun()
    show_report(st.session_state.get(REPORT_KEY))


def run_import(
    svc: ConversationService, user: UserRecord, uploaded: Any, *, slot: Any
) -> dict[str, Any]:
    """Import the uploaded file, progress shown in `slot`; its report summed up, or the error."""
    name = getattr(uploaded, "name", "the file")
    status = slot.status(f"Importing {name}… checking the file", state="running")
    try:
        report = svc.import_conversations(user, uploaded, progress=progress_callback(status, name))
    except PAError as exc:
        logger.warning("Import of %s failed: %s", name, exc)
        return {"file": name, "error": state.user_message(exc)}
    finally:
        status.update(state="complete")
    return report_summary(report, name)


def progress_callback(status: Any, name: str) -> Callable[[int], None]:
    """The import's progress callback: the conversations handled so far, in the status label."""
    shown = [0.0]

    def advance(done: int) -> None:
        now = time.monotonic()
        if now - shown[0] >= PROGRESS_EVERY_S:  # one browser update per interval is plenty
            shown[0] = now
            status.update(label=f"Importing {name}… {done:,} conversation(s) so far")

    return advance


def report_summary(report: Any, file_name: str) -> dict[str, Any]:
    """The small part of an ImportReport worth keeping: counts and the first warnings."""
    warnings = list(report.warnings or [])
    return {
        "file": file_name,
        "sessions_imported": report.sessions_imported,
        "sessions_skipped": report.sessions_skipped,
        "messages_imported": report.messages_imported,
        "warnings": [str(w)[:500] for w in warnings[:MAX_WARNINGS_KEPT]],
        "warnings_total": len(warnings),
    }


def report_headline(summary: dict[str, Any]) -> tuple[str, str]:
    """('success' | 'info' | 'error', one line saying what the import did)."""
    file = fmt.md_text(summary["file"])
    if "error" in summary:
        return "error", f"Nothing was imported from {file}: {summary['error']}"
    imported, skipped = summary["sessions_imported"], summary["sessions_skipped"]
    if imported == 0:
        return "info", (
            f"Nothing new in {file}: {skipped:,} conversation(s) were imported before."
            if skipped
            else f"{file} holds no conversation to import."
        )
    line = (
        f"Imported {imported:,} conversation(s) with {summary['messages_imported']:,} "
        f"message(s) from {file}."
    )
    if skipped:
        line += f" {skipped:,} conversation(s) were already here and were skipped."
    return "success", line


def show_report(summary: dict[str, Any] | None) -> None:
    """The last import's outcome, with its warnings listed."""
    if not summary:
        return
    kind, line = report_headline(summary)
    getattr(st, kind)(line, icon=":material/error:" if kind == "error" else None)
    total = summary.get("warnings_total", 0)
    if total:
        with st.expander(f"{total:,} warning(s)", icon=":material/warning:"):
            st.markdown("\n".join(f"- {fmt.md_text(w)}" for w in summary["warnings"]))
            if total > len(summary["warnings"]):
                st.caption(f"… and {total - len(summary['warnings']):,} more.")


# --- downloads ------------------------------------------------------------------------------


def export_bytes(chunks: Callable[[], Iterable[str] | str]) -> Callable[[], bytes]:
    """A download-button callable: the export made when clicked, UTF-8 ('' if it failed)."""

    def make() -> bytes:
        try:
            data = chunks()
            return (data if isinstance(data, str) else "".join(data)).encode("utf-8")
        except PAError as exc:  # e.g. the session was deleted in another tab meanwhile
            logger.warning("Export failed: %s", exc)
            return b""

    return make


def selection_exports(svc: ConversationService, user: UserRecord, selected: set[str]) -> None:
    """CSV and JSON downloads of all (or the selected) sessions; large ones prepared first."""
    chosen = sorted(selected)
    try:
        total = svc.count_messages(user, chosen or None)
    except PAError as exc:
        state.show_error(exc, "The export is not available")
        return
    makers = {
        "csv": lambda **kw: svc.export_csv(user, chosen or None, **kw),
        "json": lambda **kw: svc.export_json(user, chosen or None),
    }
    for kind, make in makers.items():
        name = exports.selection_export_name(user.username, len(chosen), KINDS[kind][1])
        _selection_download(kind, make, chosen, total, name)
    st.caption(f"{total:,} message(s)")


def forget_prepared() -> None:
    """Drop the prepared large exports (the selection or the sessions changed)."""
    st.session_state.pop(PREPARED_KEY, None)


def _selection_download(
    kind: str, make: Callable[..., Iterable[str]], chosen: list[str], total: int, name: str
) -> None:
    """One format's button: a download, or 'Prepare … of N messages' for a large export."""
    label = fmt.selected_label(len(chosen), KINDS[kind][0])
    key = "pa-sessions-csv" if kind == "csv" else f"pa-sessions-{kind}"
    if total <= exports.LAZY_EXPORT_MAX:
        _download(label, export_bytes(make), name, kind, key)
        return
    prepared = st.session_state.get(PREPARED_KEY, {}).get(kind)
    if prepared and prepared[0] == (tuple(chosen), total):  # stale once messages were added
        _download(label, exports.file_reader(prepared[1]), name, kind, key)
        return
    prepare_key = "pa-sessions-prepare" if kind == "csv" else f"pa-sessions-prepare-{kind}"
    if st.button(f"Prepare {KINDS[kind][0]} of {total:,} messages", key=prepare_key):
        _prepare(kind, make, chosen, total, replaces=prepared[1] if prepared else None)
        st.rerun()


def _prepare(
    kind: str, make: Callable[..., Iterable[str]], chosen: list[str], total: int, *, replaces
) -> None:
    """Write a large export to a private temporary file with a progress bar; keep its path."""
    bar = st.progress(0.0, text="Exporting…")
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        bar.progress(min(done / total, 1.0), text=f"Exporting… {done:,} / {total:,}")

    chunks = make(progress=advance) if kind == "csv" else make()
    path = exports.write_export_file(chunks, replaces=replaces, suffix=f".{KINDS[kind][1]}")
    st.session_state.setdefault(PREPARED_KEY, {})[kind] = ((tuple(chosen), total), path)


def _download(label: str, data: Callable[[], bytes], name: str, kind: str, key: str) -> None:
    """A download button whose data is read or generated only when clicked."""
    st.download_button(
        label,
        data=data,
        file_name=name,
        mime=KINDS[kind][2],
        on_click="ignore",
        icon=":material/download:",
        key=key,
    )


def markdown_download(
    svc: ConversationService, user: UserRecord, session: SessionRecord, *, label: str, key: str
) -> None:
    """Download one session as Markdown, generated when clicked."""
    sid = session.session_id
    st.download_button(
        label,
        data=export_bytes(lambda: svc.export_markdown(user, sid)),
        file_name=session_file_name(user, session, "md"),
        mime=KINDS["md"][2],
        on_click="ignore",
        icon=":material/description:",
        key=key,
        disabled=session.message_count == 0,
    )


def session_file_name(user: UserRecord, session: SessionRecord, ext: str) -> str:
    """'alice-<title-slug>-<date>.<ext>' for one session (never an all-sessions name)."""
    return exports.session_export_name(user.username, session.title, session.session_id, ext)


def chat_downloads(svc: ConversationService, user: UserRecord, session: SessionRecord) -> None:
    """The Chat page's download menu: the open chat as Markdown, JSON or CSV."""
    sid = session.session_id
    with st.popover("Download", icon=":material/download:", disabled=session.message_count == 0):
        markdown_download(
            svc, user, session, label="Download this chat (Markdown)", key="pa-chat-md"
        )
        for kind, make in (
            ("json", lambda: svc.export_json(user, [sid])),
            ("csv", lambda: svc.export_csv(user, [sid])),
        ):
            label, ext, mime = KINDS[kind]
            st.download_button(
                f"Download this chat ({label})",
                data=export_bytes(make),
                file_name=session_file_name(user, session, ext),
                mime=mime,
                on_click="ignore",
                icon=":material/download:",
                key=f"pa-chat-{kind}",
            )
