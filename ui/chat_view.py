"""How the Chat page draws messages: bubbles, long messages folded, replaced replies collapsed,
and the actions under each message (copy, thumbs up/down with a comment, Retry/Regenerate).

Everything shown goes through `fmt.no_remote_images`, error boxes and captions included, so no
message can make the browser load a remote URL by itself.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

import pa_core
from pa_core import PAError
from ui import format as fmt
from ui.state import user_message

REDO_KEY = "pa_chat_redo"  # (session id, message id) of the reply to answer again
EXPANDED_KEY = "pa_chat_expanded"  # ids of long messages shown whole
NOTICE_KEY = "pa_chat_notice"  # a one-run notice set by a callback
FOLD_CHARS = 2500  # longer messages are folded ("Show more")
FOLD_LINES = 40
PENDING_CAPTION = "Kept on this server · saved to the database as soon as it is back"


def metadata_flag(message: pa_core.MessageRecord, name: str) -> bool:
    """True when the message's metadata has `name` set to True."""
    metadata = message.message_metadata
    return isinstance(metadata, dict) and metadata.get(name) is True


def fold(text: str) -> str | None:
    """The start of a long message (cut at a line break, code fences closed), else None."""
    lines = text.splitlines()
    if len(text) <= FOLD_CHARS and len(lines) <= FOLD_LINES:
        return None
    preview, size = [], 0
    for line in lines[:FOLD_LINES]:
        if preview and size + len(line) > FOLD_CHARS:
            break
        preview.append(line[:FOLD_CHARS])
        size += len(line) + 1
    head = "\n".join(preview)
    if head.count("```") % 2:
        head += "\n```"
    return head + "\n\n…"


def toggle_expanded(message_id: int) -> None:
    """Button callback: show a long message whole, or folded again."""
    expanded = st.session_state.setdefault(EXPANDED_KEY, set())
    expanded.symmetric_difference_update({message_id})


def body(content: str, *, key: str, message_id: int | None, error: bool = False) -> None:
    """A message's text: markdown (or an error box), folded when long."""
    expanded = message_id is not None and message_id in st.session_state.get(EXPANDED_KEY, ())
    head = None if expanded else fold(content)
    text = fmt.no_remote_images(head if head is not None else content)
    if error:
        st.error(text, icon=":material/error:")
    else:
        st.markdown(text)
    if message_id is not None and (head is not None or expanded):
        st.button(
            "Show less" if expanded else "Show more",
            key=f"{key}-fold",
            type="tertiary",
            icon=":material/unfold_less:" if expanded else ":material/unfold_more:",
            on_click=toggle_expanded,
            args=(message_id,),
        )


def caption(message: pa_core.MessageRecord) -> str:
    """The caption under a message: tools, time, tokens, and what happened to it."""
    parts = [fmt.message_caption(message)] if message.role == "assistant" else []
    if metadata_flag(message, "interrupted"):
        parts.append("stopped before it finished")
    if message.has_error and message.error_message:
        parts.append(f"details: {message.error_message[:500]}")
    return fmt.no_remote_images(" · ".join(parts))


def show_message(svc: Any, user: Any, message: pa_core.MessageRecord, *, last: bool) -> None:
    """One stored message as a bubble with its actions (`last`: the session's newest)."""
    role = message.role if message.role in ("user", "assistant") else "system"
    avatar = ":material/settings:" if role == "system" else None
    key = f"pa-m{message.id}"
    with st.chat_message(role, avatar=avatar):
        if metadata_flag(message, "superseded"):
            with st.expander("Earlier reply (replaced by a newer one)", icon=":material/history:"):
                body(message.content, key=key, message_id=message.id, error=message.has_error)
                st.caption(caption(message))
            return
        body(message.content, key=key, message_id=message.id, error=message.has_error)
        actions(svc, user, message, key=key, last=last)


def actions(svc: Any, user: Any, message: pa_core.MessageRecord, *, key: str, last: bool) -> None:
    """One row under the message: Copy; for the assistant's replies feedback, a comment,
    Retry/Regenerate; then the caption (tools, time, tokens, what happened to it)."""
    with st.container(horizontal=True, gap="small", vertical_alignment="center", key=f"{key}-act"):
        with st.popover(
            "Copy", icon=":material/content_copy:", help="Copy this message", type="tertiary"
        ):
            st.caption("Copy with the button in the corner of the box.")
            st.code(message.content, language=None, wrap_lines=True)
        if message.role == "assistant":
            reply_actions(svc, user, message, key=key, last=last)
        text = caption(message)
        if text:
            st.caption(text, help=fmt.message_time_help(message))


def reply_actions(
    svc: Any, user: Any, message: pa_core.MessageRecord, *, key: str, last: bool
) -> None:
    """Thumbs up/down, a comment, and Retry/Regenerate on the newest reply."""
    stored = {1: 1, -1: 0}.get(message.feedback)
    st.feedback(
        "thumbs",
        key=f"{key}-fb",
        default=stored,
        on_change=rate,
        args=(svc, user, message.id, f"{key}-fb"),
    )
    comment_box(svc, user, message, key=key)
    if last:
        label = "Retry" if message.has_error else "Regenerate"
        st.button(
            label,
            key=f"{key}-redo",
            type="tertiary",
            icon=":material/refresh:",
            help="Answer the last message again; this reply stays in the history, marked "
            "as replaced.",
            on_click=ask_redo,
            args=(message.session_id, message.id),
        )


def comment_box(svc: Any, user: Any, message: pa_core.MessageRecord, *, key: str) -> None:
    """A popover with a short form for a comment on the reply."""
    label = "Comment" if not message.feedback_comment else "Comment (1)"
    with (
        st.popover(label, icon=":material/comment:", help="Comment on this reply", type="tertiary"),
        st.form(f"{key}-comment-form", border=False),
    ):
        text = st.text_area(
            "Comment (optional)", value=message.feedback_comment or "", max_chars=2000
        )
        if st.form_submit_button("Save comment"):
            save_feedback(svc, user, message.id, rating=message.feedback, comment=text)


def rate(svc: Any, user: Any, message_id: int, widget_key: str) -> None:
    """Feedback callback: thumbs up (1) / down (0) stored as 1 / -1, cleared as None."""
    value = st.session_state.get(widget_key)
    rating = {1: 1, 0: -1}.get(value)
    try:
        svc.set_feedback(message_id, user=user, rating=rating)
    except PAError as exc:
        st.session_state[NOTICE_KEY] = f"The feedback was not saved: {user_message(exc)}"


def save_feedback(svc: Any, user: Any, message_id: int, *, rating: Any, comment: str) -> None:
    """Store a comment (keeping the rating) and say so."""
    try:
        svc.set_feedback(message_id, user=user, rating=rating, comment=comment or None)
    except PAError as exc:
        st.error(f"The comment was not saved: {user_message(exc)}", icon=":material/error:")
        return
    st.session_state[NOTICE_KEY] = "Thanks, your comment was saved."
    st.rerun()


def ask_redo(session_id: str, message_id: int) -> None:
    """Button callback: answer the last message again in this run."""
    st.session_state[REDO_KEY] = (session_id, message_id)


def show_pending(entry: dict[str, Any]) -> None:
    """A message kept in the spool (not in the database yet)."""
    role = entry.get("role") if entry.get("role") in ("user", "assistant") else "system"
    with st.chat_message(role):
        error = bool((entry.get("fields") or {}).get("has_error"))
        body(str(entry.get("content", "")), key="pending", message_id=None, error=error)
        st.caption(f":material/schedule: {PENDING_CAPTION}")
