"""The Sessions page's search: results grouped by conversation, matches highlighted.

Everything a message says is escaped (hostile HTML and markdown stay text); only the matched
words get the highlight, from the (text, is_match) parts the service hands out.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from pa_core import ConversationService, PAError, UserRecord
from pa_core.records import ConversationHits, MatchedMessage
from ui import format as fmt
from ui import state

RESULT_SESSIONS = 20  # conversations shown per search
MATCHES_PER_SESSION = 3
ROLE_LABELS = {"user": "You", "assistant": "Assistant", "system": "System"}
_SPACE = re.compile(r"\s+")
WORD_JOINER = "\u2060"
_AUTOLINK = re.compile(r":/|(?<![\w])w(?=ww\\\.)|@", re.IGNORECASE)


def literal(text: str) -> str:
    """Markdown showing `text` exactly: every formatting character escaped (fmt.md_text), and
    an invisible word joiner inside '://', 'www.' and '@', which GFM would turn into a link
    even when escaped."""
    escaped = fmt.md_text(text)
    return _AUTOLINK.sub(lambda m: m.group()[0] + WORD_JOINER + m.group()[1:], escaped)


def is_history_navigation() -> bool:
    """True when this script run was started by the browser's Back / Forward."""
    ctx = get_script_run_ctx()
    return bool(getattr(ctx, "is_history_navigation", False))


def highlighted(parts: tuple[tuple[str, bool], ...]) -> str:
    """Markdown of a snippet: every piece escaped, the matches bold on a highlight."""
    out = []
    for text, is_match in parts:
        text = literal(_SPACE.sub(" ", text))
        out.append(f":orange-background[**{text}**]" if is_match and text.strip() else text)
    return "".join(out)


def badges(*, pinned: bool, active: bool) -> str:
    """' :blue-badge[Pinned] :gray-badge[Archived]' as they apply."""
    marks = [":blue-badge[:material/push_pin: Pinned]"] if pinned else []
    if not active:
        marks.append(":gray-badge[:material/archive: Archived]")
    return (" " + " ".join(marks)) if marks else ""


def search_results(
    svc: ConversationService,
    user: UserRecord,
    query: str,
    *,
    archived: bool | None,
    pinned: bool | None,
    open_session: Callable[[str], None],
) -> None:
    """The conversations matching `query`, one card each, newest match first."""
    try:
        groups = svc.search_conversations(
            user,
            query,
            limit=RESULT_SESSIONS,
            per_session=MATCHES_PER_SESSION,
            archived=archived,
            pinned=pinned,
        )
    except PAError as exc:
        state.show_error(exc, "Search failed")
        return
    if not groups:
        st.info("No message matches that search.")
        return
    count = len(groups)
    more = " (the 20 with the newest matches)" if count == RESULT_SESSIONS else ""
    st.caption(f"{count} conversation{'s' if count != 1 else ''} match{more}, newest first")
    for group in groups:
        conversation_card(group, open_session)


def conversation_card(group: ConversationHits, open_session: Callable[[str], None]) -> None:
    """One matching conversation: title, badges, its matching messages, Open."""
    sid = group.session_id
    with st.container(border=True, key=f"pa-result-{sid}"):
        with st.container(horizontal=True, vertical_alignment="center"):
            title = literal(fmt.session_title(group.session_title))
            st.markdown(
                f"**{title}**{badges(pinned=group.pinned, active=group.is_active)}",
                width="stretch",
            )
            if st.button("Open", key=f"pa-hit-{sid}"):
                open_session(sid)
        for match in group.matches:
            match_line(match)
        hidden = group.match_count - len(group.matches)
        if hidden > 0:
            st.caption(f"+ {hidden} more matching message{'s' if hidden != 1 else ''}")


def match_line(match: MatchedMessage) -> None:
    """Who said it, when, and the snippet with the matches highlighted."""
    who = ROLE_LABELS.get(match.role, match.role)
    when = fmt.md_text(fmt.format_timestamp(match.created_at))
    st.markdown(f":small[:gray[{who} · {when}]]  \n{highlighted(match.parts) or '…'}")
