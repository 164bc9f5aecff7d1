"""Sessions: the conversations, newest first; search, filters, open, rename, pin, archive,
delete, import, export. The search (`?q=`) and the filters (`?show=`, `?pinned=`) live in the
URL, so Back and a shared link bring the same view back."""

from __future__ import annotations

import streamlit as st

import ui
from pa_core import PAError, SessionRecord
from ui import format as fmt
from ui import import_export as ie
from ui import session_search

user = ui.require_login()

CURSORS_KEY = "pa_sessions_cursors"  # keyset cursors: id of the last session of each earlier page
SELECTED_KEY = "pa_sessions_selected"  # session ids ticked for export
RENAMING_KEY = "pa_sessions_renaming"
DELETING_KEY = "pa_sessions_deleting"
CHAT_PAGE = "pages/chat.py"
VIEW_KEY = "pa_sessions_view"  # the search and filters of the last run, for Back (restore_view)
VIEW_WIDGETS = ("q", "show", "pinned")
SHOW = {
    "Active": False,
    "Archived": True,
    "All": None,
}  # segment -> get_filtered_sessions(archived=)

svc = ui.service()
selected: set[str] = st.session_state.setdefault(SELECTED_KEY, set())
# keyset cursors of the current filter: (filter, [None, id of the last session of each page])
paging: dict = st.session_state.setdefault(CURSORS_KEY, {})


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


def next_page(cursors: list[str | None], last_id: str) -> None:
    """Button callback: the page after the session `last_id`."""
    cursors.append(last_id)


def previous_page(cursors: list[str | None]) -> None:
    """Button callback: back one page."""
    if len(cursors) > 1:
        cursors.pop()


def empty_text(archived: bool | None, pinned: bool | None) -> str:
    """What an empty list says, for the filters chosen."""
    if pinned:
        return "No pinned conversations here. Pin one with its Pin button."
    if archived:
        return "No archived conversations."
    return "No conversations yet. Start one on the Chat page."


def restore_view() -> None:
    """Back from a chat opened here lands on '/sessions?session_id=…' (Streamlit records the
    switch's new query string as a history entry of this page): put the search and filters of
    the last visit back in place of that session id. Coming here from the navigation (which
    carries the chat's query string along) just drops the session id."""
    if "session_id" not in st.query_params:
        return
    del st.query_params["session_id"]
    if not session_search.is_history_navigation():
        return
    for key, value in st.session_state.get(VIEW_KEY, {}).items():
        st.session_state[key] = value
    st.rerun()  # a history navigation lets the URL decide bound widgets; a rerun does not


def remember_view() -> None:
    """Keep the search and filters shown, for restore_view."""
    st.session_state[VIEW_KEY] = {k: st.session_state.get(k) for k in VIEW_WIDGETS}


def filters() -> tuple[str, bool | None, bool | None]:
    """The search box and the filters, all bound to the URL; (query, archived, pinned)."""
    with st.container(horizontal=True, vertical_alignment="bottom"):
        query = st.text_input(
            "Search messages",
            key="q",
            bind="query-params",
            placeholder="words to find",
            icon=":material/search:",
            width=420,
        )
        show = st.segmented_control(
            "Show", list(SHOW), default="Active", required=True, key="show", bind="query-params"
        )
        only_pinned = st.toggle("Pinned only", key="pinned", bind="query-params")
    return query.strip(), SHOW.get(show or "Active", False), (True if only_pinned else None)


def session_row(session: SessionRecord) -> None:
    """One session: tick box, title, dates, count, and its actions."""
    sid = session.session_id
    with st.container(border=True):
        left, actions = st.columns([4.4, 5.6], vertical_alignment="center")
        with left, st.container(horizontal=True, vertical_alignment="center", gap="small"):
            st.checkbox(
                "Select",
                value=sid in selected,
                key=f"pa-sel-{sid}",
                on_change=toggle,
                args=(sid,),
                label_visibility="collapsed",
                width="content",
            )
            info = st.container(width="stretch")
        with info:
            marks = session_search.badges(pinned=session.pinned, active=session.is_active)
            st.markdown(f"**{session_search.literal(fmt.session_title(session.title))}**{marks}")
            st.caption(
                f"created {fmt.format_timestamp(session.created_at)} · "
                f"last activity {fmt.format_timestamp(session.last_activity_at)} · "
                f"{session.message_count:,} message(s)"
            )
        with actions, st.container(horizontal=True, horizontal_alignment="right", gap="xsmall"):
            if st.button("Open", key=f"pa-open-{sid}"):
                open_session(sid)
            ie.markdown_download(svc, user, session, label="Markdown", key=f"pa-md-{sid}")
            if st.button("Rename", key=f"pa-ren-{sid}"):
                st.session_state[RENAMING_KEY] = sid
                st.session_state.pop(DELETING_KEY, None)
            st.button(
                "",
                icon=":material/keep_off:" if session.pinned else ":material/keep:",
                help="Unpin" if session.pinned else "Pin to the top of the chat list",
                key=f"pa-pin-{sid}",
                on_click=set_mark,
                args=(sid, "pinned", not session.pinned),
            )
            st.button(
                "",
                icon=":material/unarchive:" if not session.is_active else ":material/archive:",
                help="Unarchive" if not session.is_active else "Archive (hidden from the list)",
                key=f"pa-arch-{sid}",
                on_click=set_mark,
                args=(sid, "active", not session.is_active),
            )
            if st.button("Delete", key=f"pa-del-{sid}"):
                st.session_state[DELETING_KEY] = sid
                st.session_state.pop(RENAMING_KEY, None)
        if st.session_state.get(RENAMING_KEY) == sid:
            rename_form(session)
        if st.session_state.get(DELETING_KEY) == sid:
            delete_confirmation(session)


def set_mark(session_id: str, mark: str, value: bool) -> None:
    """Button callback: pin/unpin or archive/unarchive a session."""
    try:
        if mark == "pinned":
            svc.set_session_pinned(session_id, user=user, pinned=value)
        else:
            svc.set_session_active(session_id, user=user, active=value)
    except PAError as exc:
        ui.show_error(exc, "Could not change the conversation")
        return
    st.toast(
        {"pinned": ("Unpinned.", "Pinned."), "active": ("Archived.", "Unarchived.")}[mark][value]
    )


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
        f"Delete **{session_search.literal(fmt.session_title(session.title))}** and its "
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
restore_view()
query, archived, pinned = filters()
remember_view()
if query:  # search results replace the list; the URL keeps the query (?q=)
    session_search.search_results(
        svc, user, query, archived=archived, pinned=pinned, open_session=open_session
    )
    st.stop()
st.divider()

size = fmt.PAGE_SIZE_SESSIONS
view = (archived, pinned)
cursors: list[str | None] = paging.setdefault(view, [None])
try:
    # A chat opened but never used (no message, no title) is not worth a row; left out in SQL,
    # so every page is full.
    before = svc.get_session(cursors[-1], user=user) if cursors[-1] else None
    if cursors[-1] and before is None:  # the cursor's session was deleted: back to page one
        cursors[:] = [None]
    rows = svc.get_filtered_sessions(
        user, archived=archived, pinned=pinned, limit=size + 1, before=before
    )
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
    st.info(empty_text(archived, pinned))
for session in rows:
    session_row(session)

prev_col, next_col = st.columns(2)
prev_col.button(
    "← Newer", on_click=previous_page, args=(cursors,), disabled=len(cursors) == 1, key="pa-prev"
)
if cursor is not None:
    next_col.button(
        "Older →",
        on_click=next_page,
        args=(cursors, cursor),
        disabled=not has_next,
        key="pa-next",
    )
