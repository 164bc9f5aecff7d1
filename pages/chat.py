"""Chat: the conversation whose id is in the URL (?session_id=...), with streamed replies.

A new chat gets a fresh id in the URL at once, but its session row is created only with the
first message. While the database is down the page keeps working: typed messages are kept on
this server (the assistant's spool), shown as waiting, and written as soon as it is back.
"""

from __future__ import annotations

from typing import NamedTuple

import streamlit as st

import pa_core
import ui
from pa_core import PAError, StorageError
from pa_core.agent import LOST_NOTE, SpoolFull
from pa_core.validation import canonical_session_id
from ui import chat_ids, chat_turn, chat_view, sidebar
from ui import format as fmt
from ui import import_export as ie

user = ui.require_login()

OLDER_KEY = "pa_chat_older_pages"  # {session_id: how many earlier pages of 50 are shown}
NOT_FOUND = "That conversation was not found, so a new chat was started."

svc = ui.service()
settings = ui.settings()
# One assistant per script run (nothing of it lives in session_state); the process Settings.
bot = pa_core.PersonalAssistant(svc, user, settings=settings)


class Chat(NamedTuple):
    """What the URL names: the session id, its row (None before the first message or while
    the database is down), a notice, and whether the database answered."""

    sid: str
    session: pa_core.SessionRecord | None
    notice: str | None = None
    db_down: bool = False


def fresh_id() -> str:
    """A new chat id for this user (its row is created with the first message)."""
    return chat_ids.fresh_chat_id(settings, user.id)


def open_chat() -> Chat:
    """The chat the URL names; a fresh id (and a notice for a bad link) otherwise."""
    requested = st.query_params.get("session_id")
    canon = canonical_session_id(requested) if requested else None
    # No id: a fresh one; something that is not even an id: a fresh one and the notice.
    chat = _find(canon) if canon else Chat(fresh_id(), None, NOT_FOUND if requested else None)
    if requested != chat.sid:
        st.query_params["session_id"] = chat.sid
    return chat


def _find(sid: str) -> Chat:
    """The chat of a well-formed id: the user's session, a fresh or waiting one, else new."""
    try:
        session = svc.get_session(sid, user=user)
    except StorageError:
        return Chat(sid, None, db_down=True)  # cannot tell: keep the id, its messages wait
    if session is not None:
        return Chat(session.session_id, session)
    if chat_ids.is_fresh_chat_id(settings, user.id, sid) or bot.pending_messages(sid):
        return Chat(sid, None)
    moved = bot.resolve_session(sid)  # its waiting messages went to a continuation
    if moved != sid:
        return _find(moved)
    return Chat(fresh_id(), None, NOT_FOUND)


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
    """Button callback: a fresh chat id in the URL (no row until its first message)."""
    st.query_params["session_id"] = fresh_id()


def header(chat: Chat, *, busy: bool) -> None:
    """Title, New chat, downloads, the counts (never stale while a reply is under way), rename."""
    session = chat.session
    title = "This chat (the database is not available)" if chat.db_down else None
    st.subheader(fmt.md_text(title or fmt.session_title(session.title if session else None)))
    with st.container(horizontal=True, vertical_alignment="center"):
        st.button("New chat", icon=":material/add:", on_click=start_new_chat, key="pa-new-chat")
        if session is not None:
            ie.chat_downloads(svc, user, session)
        if busy:
            st.caption("Replying…")
        elif session is not None:
            st.caption(
                f"{session.message_count:,} message(s) · "
                f"started {fmt.format_timestamp(session.created_at)}"
            )
    if session is None:
        return
    with (
        st.expander("Rename this chat", icon=":material/edit:"),
        st.form("pa-rename-chat", clear_on_submit=False, border=False),
    ):
        new_title = st.text_input("Title", value=session.title or "", max_chars=255)
        if st.form_submit_button("Save title"):
            try:
                svc.rename_session(chat.sid, user=user, title=new_title.strip())
            except PAError as exc:
                ui.show_error(exc, "Could not rename")
            else:
                st.rerun()


def banners(chat: Chat) -> None:
    """The notices of this run: bad link, offline assistant, what a callback said (an outage
    is told by the sync at the bottom, next to the input)."""
    if chat.notice:
        st.warning(chat.notice, icon=":material/search_off:")
    if bot.config_warning:
        st.warning(bot.config_warning)
    if bot.is_offline:
        st.info(
            "The assistant is running **offline**: no language model is configured "
            "(set PA_LLM_API_KEY or PA_LLM_BASE_URL). It can still calculate, tell the date and "
            "search your past conversations.",
            icon=":material/cloud_off:",
        )
    if st.session_state.pop(chat_turn.STOPPED_KEY, False):
        st.toast("Stopped. What the reply said so far is kept.", icon=":material/stop_circle:")
    said = st.session_state.pop(chat_view.NOTICE_KEY, None)
    if said:
        st.info(said, icon=":material/info:")


def history(chat: Chat, *, busy: bool) -> Chat:
    """The stored messages, then those waiting on this server; the chat (down or not)."""
    waiting = bot.pending_messages(chat.sid)  # read first: a flush moves them to the database
    messages: list[pa_core.MessageRecord] = []
    if chat.session is not None:
        try:
            messages = load_messages(chat.session)
        except StorageError:  # the sync below says so and tries again
            chat = chat._replace(db_down=True)
    stored = {m.client_id for m in messages if m.client_id}
    waiting = [e for e in waiting if e.get("client_id") not in stored]
    if chat.session is not None and len(messages) < chat.session.message_count:
        st.button(
            f"Load earlier messages ({chat.session.message_count - len(messages):,} more)",
            on_click=show_earlier,
            args=(chat.sid,),
            key="pa-load-earlier",
        )
    for i, message in enumerate(messages):
        last = i == len(messages) - 1 and not waiting and not busy
        chat_view.show_message(svc, user, message, last=last)
    for entry in waiting:
        chat_view.show_pending(entry)
    if not messages and not waiting and not busy:
        st.caption("Say hello — this conversation is saved, and its link brings it back any time.")
    return chat


def send(chat: Chat, prompt: str) -> None:
    """Show the typed message at once, stream the reply, then show the stored conversation."""
    with st.chat_message("user"):
        st.markdown(fmt.no_remote_images(prompt))
    try:
        chat_turn.stream_reply(lambda: bot.stream(prompt, session_id=chat.sid, keep_id=True))
    except SpoolFull as exc:
        st.error(str(exc), icon=":material/error:")
        st.code(prompt, language=None, wrap_lines=True)
        return
    except PAError as exc:
        ui.show_error(exc, "The message was not sent")
        return
    after_reply(chat)


def answer_again(chat: Chat, message_id: int) -> None:
    """Retry / Regenerate: a new reply to the last message; the old one stays, replaced."""
    try:
        chat_turn.stream_reply(lambda: bot.regenerate(chat.sid, message_id))
    except PAError as exc:
        ui.show_error(exc, "Could not answer again")
        return
    after_reply(chat)


def after_reply(chat: Chat) -> None:
    """Follow the session the reply went to, say when it could not be kept, rerun."""
    reply = bot.last_reply
    if reply is not None and reply.session_id != chat.sid:
        st.query_params["session_id"] = reply.session_id
    if reply is not None and reply.content.endswith(LOST_NOTE):
        st.session_state[chat_view.NOTICE_KEY] = LOST_NOTE.strip(" \n-*⚠️")
    st.rerun()


# Read what this run was asked to do first, so nothing stale is drawn while a reply is made;
# a reply this run interrupted is stored before anything is read.
prompt = st.chat_input("Message the assistant")
chat_turn.wait_for_previous_reply()
redo = st.session_state.pop(chat_view.REDO_KEY, None)
chat = open_chat()
busy = bool(prompt) or (redo is not None and redo[0] == chat.sid)

sidebar.chat_list(svc, user, chat.sid, new_chat=start_new_chat)  # the conversation list

header(chat, busy=busy)
banners(chat)
chat = history(chat, busy=busy)
if prompt:
    send(chat, prompt)
elif busy:
    answer_again(chat, redo[1])
chat_turn.keep_syncing(svc, bot, db_down=chat.db_down)
