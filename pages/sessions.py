"""Sessions: the conversations, newest first; search, open, rename, delete, import, export."""

from __future__ import annotations

import streamlit as st

import ui
from pa_core import PAError, SessionRecord
from ui import format as fmt
from ui import import_export as ie

user = ui.require_login()

CURSORS_KEY = "pa_sessions_cursors"  # keyset cursors: id of the last session of each earlier page
SELECTED_KEY = "pa_sessions_selected"  # session ids ticked for export
RENAMING_KEY = "pa_sessions_renaming"
DELETING_KEY = "pa_sessions_deleting"
CHAT_PAGE = "pages/chat.py"

svc = ui.service()
selected: set[str] = st.session_state.setdefault(SELECTED_KEY, set())
cursors: list[str | None] = st.session_state.setdefault(CURSORS_KEY, [None])


def open_session(session_id: str) -> None:
    """Go to the Chat page showing this session."""
    st.switch_page(CHAT_PAGE, query_params={"session_id": session_id})


def toggle(session_id: str) -> None:
    """Checkbox callback: add or remove a session from the export selection."""
    if st.session_state.get(f"pa-sel-{session_id}"):
        selected.add(session_id)
    else:
        selected.discard(session_id)
    ie.forget_prepared()


def next_page(last_id: str) -> None:
    """Button callback: the page after the session `last_id`."""
    cursors.append(last_id)


def previous_page() -> None:
    """Button callback: back one page."""
    if len(cursors) > 1:
        cursors.pop()


def search_section() -> None:
    """Full-text search over the user's messages, with snippets and an Open button per hit."""
    query = st.text_input("Search messages", key="pa-sessions-search", placeholder="words to find")
    if not query.strip():
        return
    try:
        hits = svc.search_messages(user, query, limit=20)
    except PAError as exc:
        ui.show_error(exc, "Search failed")
        return
    if not hits:
        st.info("No message matches that search.")
        return
    st.caption(f"{len(hits)} match(es), newest first")
    for hit in hits:
        with st.container(border=True):
            text_col, open_col = st.columns([8, 1], vertical_alignment="center")
            with text_col:
                st.markdown(
                    f"**{fmt.md_text(fmt.session_title(hit.session_title))}** · "
                    f"{hit.role} · {fmt.format_timestamp(hit.created_at)}"
                )
                st.markdown(fmt.no_remote_images(hit.snippet))
            with open_col:
                if st.button("Open", key=f"pa-hit-{hit.message_id}"):
                    open_session(hit.session_id)


def session_row(session: SessionRecord) -> None:
    """One session: tick box, title, dates, count, and its actions."""
    sid = session.session_id
    with st.container(border=True):
        tick, info, actions = st.columns([0.4, 4.6, 5.0], vertical_alignment="center")
        with tick:
            st.checkbox(
                "Select",
                value=sid in selected,
                key=f"pa-sel-{sid}",
                on_change=toggle,
                args=(sid,),
                label_visibility="collapsed",
            )
        with info:
            st.markdown(f"**{fmt.md_text(fmt.session_title(session.title))}**")
            st.caption(
                f"created {fmt.format_timestamp(session.created_at)} · "
                f"last activity {fmt.format_timestamp(session.last_activity_at)} · "
                f"{session.message_count:,} message(s)"
            )
        with actions, st.container(horizontal=True, horizontal_alignment="right"):
            if st.button("Open", key=f"pa-open-{sid}"):
                open_session(sid)
            ie.markdown_download(svc, user, session, label="Markdown", key=f"pa-md-{sid}")
            if st.button("Rename", key=f"pa-ren-{sid}"):
                st.session_state[RENAMING_KEY] = sid
                st.session_state.pop(DELETING_KEY, None)
            if st.button("Delete", key=f"pa-del-{sid}"):
                st.session_state[DELETING_KEY] = sid
                st.session_state.pop(RENAMING_KEY, None)
        if st.session_state.get(RENAMING_KEY) == sid:
            rename_form(session)
        if st.session_state.get(DELETING_KEY) == sid:
            delete_confirmation(session)


def rename_form(session: SessionRecord) -> None:
    """Inline form to rename a session."""
    with st.form(f"pa-rename-{session.session_id}", border=False):
        title = st.text_input("New title", value=session.title or "", max_chars=255)
        save, cancel = st.columns(2)
        saved = save.form_submit_button("Save", type="primary")
        cancelled = cancel.form_submit_button("Cancel")
    if cancelled:
        st.session_state.pop(RENAMING_KEY, None)
        st.rerun()
    if saved:
        try:
            svc.rename_session(session.session_id, user=user, title=title.strip())
        except PAError as exc:
            ui.show_error(exc, "Could not rename")
            return
        st.session_state.pop(RENAMING_KEY, None)
        st.toast("Renamed.")
        st.rerun()


def delete_confirmation(session: SessionRecord) -> None:
    """Ask before deleting a session and all its messages for good."""
    st.warning(
        f"Delete **{fmt.md_text(fmt.session_title(session.title))}** and its "
        f"{session.message_count:,} message(s)? This cannot be undone."
    )
    yes, no = st.columns(2)
    if yes.button("Yes, delete", type="primary", key=f"pa-del-yes-{session.session_id}"):
        try:
            svc.delete_session(session.session_id, user=user)
        except PAError as exc:
            ui.show_error(exc, "Could not delete")
            return
        st.session_state.pop(DELETING_KEY, None)
        selected.discard(session.session_id)
        ie.forget_prepared()
        st.toast("Deleted.")
        st.rerun()
    if no.button("Cancel", key=f"pa-del-no-{session.session_id}"):
        st.session_state.pop(DELETING_KEY, None)
        st.rerun()


st.title("Sessions")
ie.import_section(svc, user)
search_section()
st.divider()

size = fmt.PAGE_SIZE_SESSIONS
try:
    # A chat opened but never used (no message, no title) is not worth a row; left out in SQL,
    # so every page is full.
    before = svc.get_session(cursors[-1], user=user) if cursors[-1] else None
    if cursors[-1] and before is None:  # the cursor's session was deleted: back to page one
        cursors[:] = [None]
    rows = svc.get_user_sessions(user, limit=size + 1, before=before, include_empty=False)
except PAError as exc:
    ui.show_error(exc, "The sessions could not be loaded")
    st.stop()
has_next = len(rows) > size
rows = rows[:size]
cursor = rows[-1].session_id if rows else None  # keyset cursor: the last row shown

with st.container(horizontal=True, vertical_alignment="center"):
    ie.selection_exports(svc, user, selected)
    st.caption(f"Page {len(cursors)} · newest activity first · {len(selected)} selected")

if not rows:
    st.info("No conversations yet. Start one on the Chat page.")
for session in rows:
    session_row(session)

prev_col, next_col = st.columns(2)
prev_col.button("← Newer", on_click=previous_page, disabled=len(cursors) == 1, key="pa-prev")
if cursor is not None:
    next_col.button(
        "Older →", on_click=next_page, args=(cursor,), disabled=not has_next, key="pa-next"
    )
