"""The ⋯ menu of a sidebar row: pin, rename (long titles cut with a notice), archive, delete.

Its buttons act in callbacks, which run before the next render, so the list drawn after them
is up to date; a failure becomes a one-line notice shown under the filter box.
"""

from __future__ import annotations

import streamlit as st

from pa_core import ConversationService, PAError, SessionRecord, UserRecord
from ui import format as fmt
from ui import state

RENAMING_KEY = "pa_side_renaming"  # session id whose menu shows the rename form
DELETING_KEY = "pa_side_deleting"  # session id whose menu asks to confirm the delete
NOTICE_KEY = "pa_side_notice"  # (kind, text) shown once under the filter
MENU_HEIGHT_PX = 150  # about the height of a row's menu (four buttons)


def menu_key(sid: str) -> str:
    """The widget key of a row's menu (its popover); False in session state closes it."""
    return f"pa-side-menu-{sid}"


def row_menu(
    svc: ConversationService, user: UserRecord, session: SessionRecord, current_sid: str | None
) -> None:
    """The row's menu: its actions, the rename form, or the delete confirmation."""
    sid = session.session_id
    if st.session_state.get(DELETING_KEY) == sid:
        st.markdown(
            f"Delete **{fmt.md_text(fmt.session_title(session.title))}** and its "
            f"{session.message_count:,} message(s)? This cannot be undone."
        )
        st.button(
            "Delete for good",
            type="primary",
            key=f"pa-side-del-yes-{sid}",
            on_click=_delete,
            args=(svc, user, sid, sid == current_sid),
        )
        st.button("Cancel", key=f"pa-side-del-no-{sid}", on_click=_forget, args=(DELETING_KEY,))
        return
    if st.session_state.get(RENAMING_KEY) == sid:
        _rename_form(svc, user, session)
        return
    pin_label = "Unpin" if session.pinned else "Pin"
    st.button(
        pin_label,
        icon=":material/keep_off:" if session.pinned else ":material/keep:",
        key=f"pa-side-pin-{sid}",
        type="tertiary",
        on_click=_pin,
        args=(svc, user, sid, not session.pinned),
    )
    st.button(
        "Rename",
        icon=":material/edit:",
        key=f"pa-side-ren-{sid}",
        type="tertiary",
        on_click=_ask,
        args=(RENAMING_KEY, sid),
    )
    st.button(
        "Archive",
        icon=":material/archive:",
        key=f"pa-side-arc-{sid}",
        type="tertiary",
        on_click=_archive,
        args=(svc, user, sid),
    )
    st.button(
        "Delete",
        icon=":material/delete:",
        key=f"pa-side-del-{sid}",
        type="tertiary",
        on_click=_ask,
        args=(DELETING_KEY, sid),
    )


def _rename_form(svc: ConversationService, user: UserRecord, session: SessionRecord) -> None:
    """Rename inside the menu; an over-long (pasted) title is cut to 255 with a notice."""
    sid = session.session_id
    with st.form(f"pa-side-rename-{sid}", border=False):
        st.text_input("New title", value=session.title or "", key=f"pa-side-title-{sid}")
        st.form_submit_button("Save", type="primary", on_click=_rename, args=(svc, user, sid))
    st.button("Cancel", key=f"pa-side-ren-no-{sid}", on_click=_forget, args=(RENAMING_KEY,))


def _ask(key: str, sid: str) -> None:
    for other in (RENAMING_KEY, DELETING_KEY):
        st.session_state.pop(other, None)
    st.session_state[key] = sid


def _forget(key: str) -> None:
    st.session_state.pop(key, None)


def _close_menu(sid: str) -> None:
    for key in (RENAMING_KEY, DELETING_KEY):
        st.session_state.pop(key, None)
    st.session_state[menu_key(sid)] = False


def _notice(kind: str, text: str) -> None:
    st.session_state[NOTICE_KEY] = (kind, text)


def show_notice() -> None:
    """The notice the last menu action left (an error or an info line), shown once."""
    kind, text = st.session_state.pop(NOTICE_KEY, (None, None))
    if kind == "error":
        st.error(text, icon=":material/error:")
    elif kind:
        st.info(text, icon=":material/info:")


def _pin(svc: ConversationService, user: UserRecord, sid: str, pinned: bool) -> None:
    try:
        svc.set_session_pinned(sid, user=user, pinned=pinned)
    except PAError as exc:
        _notice("error", f"Could not {'pin' if pinned else 'unpin'}: {state.user_message(exc)}")
    _close_menu(sid)


def _archive(svc: ConversationService, user: UserRecord, sid: str) -> None:
    try:
        svc.set_session_active(sid, user=user, active=False)
    except PAError as exc:
        _notice("error", f"Could not archive: {state.user_message(exc)}")
    else:
        _notice("info", "Archived: the chat is kept, no longer listed here.")
    _close_menu(sid)


def _delete(svc: ConversationService, user: UserRecord, sid: str, current: bool) -> None:
    try:
        svc.delete_session(sid, user=user)
    except PAError as exc:
        _notice("error", f"Could not delete: {state.user_message(exc)}")
    else:
        if current:
            st.query_params.clear()  # the chat page starts a new chat
    _close_menu(sid)


def _rename(svc: ConversationService, user: UserRecord, sid: str) -> None:
    title, cut = fmt.clip_title(st.session_state.get(f"pa-side-title-{sid}", ""))
    if not title:
        _notice("error", "A title cannot be empty.")
        return
    try:
        svc.rename_session(sid, user=user, title=title)
    except PAError as exc:
        _notice("error", f"Could not rename: {state.user_message(exc)}")
        return
    if cut:
        _notice("info", f"The title was cut to {fmt.TITLE_MAX} characters.")
    _close_menu(sid)
