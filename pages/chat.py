"""Chat: the conversation whose id is in the URL (?session_id=...), with streamed replies."""

from __future__ import annotations

import streamlit as st

import pa_core
import ui
from pa_core import PAError
from ui import format as fmt
from ui import import_export as ie
from ui import sidebar

user = ui.require_login()

OLDER_KEY = "pa_chat_older_pages"  # {session_id: how many earlier pages of 50 are shown}
FRESH_KEY = "pa_chat_fresh_sid"  # the empty session this browser session created last

svc = ui.service()


def new_session() -> pa_core.SessionRecord:
    """A new empty session, reusing the one this browser created last if still empty."""
    fresh = st.session_state.get(FRESH_KEY)
    if fresh:
        existing = svc.get_session(fresh, user=user)
        if existing is not None and existing.message_count == 0:
            return existing
    session = svc.create_session(user=user)
    st.session_state[FRESH_KEY] = session.session_id
    return session


def current_session() -> tuple[pa_core.SessionRecord, str | None]:
    """The session named by ?session_id= (own), else a new one plus a notice saying why."""
    requested = st.query_params.get("session_id")
    notice = None
    session = svc.get_session(requested, user=user) if requested else None
    if session is None:
        if requested:
            notice = "That conversation was not found, so a new chat was started."
        session = new_session()
    if requested != session.session_id:
        st.query_params["session_id"] = session.session_id
    return session, notice


def load_messages(session: pa_core.SessionRecord) -> list[pa_core.MessageRecord]:
    """The last 50 messages plus the earlier pages asked for, in one query."""
    pages = st.session_state.get(OLDER_KEY, {}).get(session.session_id, 0)
    limit = fmt.PAGE_SIZE_MESSAGES * (1 + pages)
    return svc.get_messages(session.session_id, user=user, limit=limit)


def show_earlier(sid: str) -> None:
    """Button callback: one more page of earlier messages."""
    pages = st.session_state.setdefault(OLDER_KEY, {})
    pages[sid] = pages.get(sid, 0) + 1


def start_new_chat() -> None:
    """Button callback: a new session, put in the URL."""
    st.query_params["session_id"] = new_session().session_id


def show_message(message: pa_core.MessageRecord) -> None:
    """One message bubble; markdown rendered, HTML shown as text, errors as errors."""
    role = message.role if message.role in ("user", "assistant") else "system"
    with st.chat_message(role, avatar=":material/settings:" if role == "system" else None):
        if message.has_error:
            st.error(message.content, icon=":material/error:")
            if message.error_message:
                st.caption(f"Details: {message.error_message[:500]}")
        else:
            st.markdown(fmt.no_remote_images(message.content))
        if message.role == "assistant":
            st.caption(fmt.message_caption(message))


try:
    session, notice = current_session()
except PAError as exc:
    ui.show_error(exc, "The conversation could not be opened")
    st.stop()
sid = session.session_id
sidebar.chat_list(svc, user, sid, new_chat=start_new_chat)

st.subheader(fmt.md_text(fmt.session_title(session.title)))
with st.container(horizontal=True, vertical_alignment="center"):
    st.button("New chat", icon=":material/add:", on_click=start_new_chat, key="pa-new-chat")
    ie.chat_downloads(svc, user, session)
    st.caption(
        f"{session.message_count:,} message(s) · started {fmt.format_timestamp(session.created_at)}"
    )
with (
    st.expander("Rename this chat", icon=":material/edit:"),
    st.form("pa-rename-chat", clear_on_submit=False, border=False),
):
    new_title = st.text_input("Title", value=session.title or "", max_chars=255)
    if st.form_submit_button("Save title"):
        try:
            svc.rename_session(sid, user=user, title=new_title.strip())
        except PAError as exc:
            ui.show_error(exc, "Could not rename")
        else:
            st.rerun()

if notice:
    st.warning(notice, icon=":material/search_off:")
# One assistant per script run (nothing of it lives in session_state); the process Settings.
bot = pa_core.PersonalAssistant(svc, user, settings=ui.settings())
if bot.config_warning:
    st.warning(bot.config_warning)
if bot.is_offline:
    st.info(
        "The assistant is running **offline**: no language model is configured "
        "(set PA_LLM_API_KEY or PA_LLM_BASE_URL). It can still calculate, tell the date and "
        "search your past conversations.",
        icon=":material/cloud_off:",
    )

try:
    messages = load_messages(session)
except PAError as exc:
    ui.show_error(exc, "The messages could not be loaded")
    messages = []
if len(messages) < session.message_count:
    st.button(
        f"Load earlier messages ({session.message_count - len(messages):,} more)",
        on_click=show_earlier,
        args=(sid,),
        key="pa-load-earlier",
    )
for message in messages:
    show_message(message)
if not messages:
    st.caption("Say hello — this conversation is saved, and its link brings it back any time.")

prompt = st.chat_input("Message the assistant")
if prompt:
    with st.chat_message("user"):
        st.markdown(fmt.no_remote_images(prompt))
    with st.chat_message("assistant"):
        try:
            st.write_stream(fmt.no_remote_images_stream(bot.stream(prompt, session_id=sid)))
        except PAError as exc:
            ui.show_error(exc, "The message was not sent")
            st.stop()
    reply = bot.last_reply
    if reply is not None and reply.session_id != sid:
        st.query_params["session_id"] = reply.session_id
    st.rerun()
