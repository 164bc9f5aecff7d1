"""The chat page's sidebar: New chat, a filter, pinned chats, then recent chats by local day.

One click on a row opens that chat: the callback sets `?session_id=` and Streamlit's frontend
pushes a browser history entry for the new query string, so Back and Forward move between
chats. Each render reads two statements (pinned, recent), whatever the number of sessions.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from typing import NamedTuple

import streamlit as st

from pa_core import ConversationService, PAError, SessionRecord, StorageError, UserRecord
from ui import clock, state
from ui import format as fmt
from ui import sidebar_menu as menus

PAGE = 25  # recent chats per "more"
PINNED_LIMIT = 30  # pinned chats shown; the Sessions page has the rest
MAX_RECENT = 499  # one page query is capped at 500 rows by the service
PAGES_KEY = "pa_side_pages"  # how many pages of recent chats are shown
FILTER_KEY = "pa-side-filter"


class ChatList(NamedTuple):
    """What the sidebar shows: pinned chats, recent chats, and whether more exist."""

    pinned: list[SessionRecord]
    recent: list[SessionRecord]
    more: bool
    more_pinned: bool


def load_chat_list(
    svc: ConversationService, user: UserRecord, *, pages: int = 1, search: str | None = None
) -> ChatList:
    """Pinned chats and `pages` pages of the others: two keyset-index reads, however many exist."""
    search = (search or "").strip() or None
    pinned = svc.get_user_sessions(
        user, limit=PINNED_LIMIT + 1, search=search, include_empty=False, pinned=True
    )
    limit = min(PAGE * max(pages, 1), MAX_RECENT)
    recent = svc.get_user_sessions(
        user, limit=limit + 1, search=search, include_empty=False, pinned=False
    )
    return ChatList(
        pinned[:PINNED_LIMIT], recent[:limit], len(recent) > limit, len(pinned) > PINNED_LIMIT
    )


def group_by_day(
    sessions: list[SessionRecord], *, now: datetime | None = None, tz: tzinfo | None = None
) -> list[tuple[str, list[SessionRecord]]]:
    """(group, sessions) in list order: Today, Yesterday, Previous 7 days, Older (local days)."""
    groups: dict[str, list[SessionRecord]] = {}
    for session in sessions:
        name = clock.day_group(session.last_activity_at, now=now, tz=tz)
        groups.setdefault(name, []).append(session)
    return [(name, groups[name]) for name in clock.GROUPS if name in groups]


def chat_list(
    svc: ConversationService,
    user: UserRecord,
    current_sid: str | None,
    *,
    new_chat: Callable[[], None] | None = None,
) -> None:
    """The conversation list in st.sidebar; `new_chat` is the New chat button's callback."""
    with st.sidebar:
        st.button(
            "New chat",
            icon=":material/edit_square:",
            key="pa-side-new",
            on_click=new_chat or _new_chat,
            width="stretch",
        )
        search = st.text_input(
            "Filter chats",
            key=FILTER_KEY,
            placeholder="Filter chats by title",
            label_visibility="collapsed",
            on_change=_reset_pages,
            icon=":material/search:",
        )
        menus.show_notice()
        try:
            data = load_chat_list(
                svc, user, pages=st.session_state.get(PAGES_KEY, 1), search=search
            )
        except StorageError:  # an outage: the chat page says so once, next to the input
            st.caption("Your chats are listed here again as soon as the database is back.")
            return
        except PAError as exc:
            state.show_error(exc, "The chat list could not be loaded")
            return
        _sections(svc, user, data, current_sid, filtered=bool(search.strip()))


def _sections(
    svc: ConversationService,
    user: UserRecord,
    data: ChatList,
    current_sid: str | None,
    *,
    filtered: bool,
) -> None:
    """Pinned, then the day groups, then the "more" button."""
    tz, now = clock.browser_zone(), datetime.now(UTC)
    if data.pinned:
        _heading("Pinned")
        for session in data.pinned:
            _row(svc, user, session, current_sid, tz=tz, now=now)
        if data.more_pinned:
            st.caption(f"Only the {PINNED_LIMIT} latest pinned chats; the Sessions page has all.")
    for name, sessions in group_by_day(data.recent, now=now, tz=tz):
        _heading(name)
        for session in sessions:
            _row(svc, user, session, current_sid, tz=tz, now=now)
    if data.more:
        st.button("More", icon=":material/expand_more:", key="pa-side-more", on_click=_more)
    elif len(data.recent) >= MAX_RECENT:
        st.caption("Older chats: use the filter or the Sessions page.")
    if not data.pinned and not data.recent:
        st.caption("No chat matches that filter." if filtered else "Your chats will appear here.")


def _heading(text: str) -> None:
    with st.container(key=f"pa-side-head-{fmt.slug(text, fallback='group')}"):
        st.caption(f"**{text}**")


def _row(
    svc: ConversationService,
    user: UserRecord,
    session: SessionRecord,
    current_sid: str | None,
    *,
    tz: tzinfo,
    now: datetime,
) -> None:
    """One chat: its title (a click opens it) and a ⋯ menu with pin, rename, archive, delete."""
    sid = session.session_id
    title = fmt.session_title(session.title)
    when = clock.relative_time(session.last_activity_at, now=now, tz=tz)
    full = clock.absolute_time(session.last_activity_at, tz=tz)
    with st.container(
        horizontal=True, gap="xxsmall", vertical_alignment="center", key=f"pa-side-row-{sid}"
    ):
        st.button(
            fmt.md_text(title),
            key=f"pa-side-open-{sid}",
            on_click=_open,
            args=(sid,),
            type="secondary" if sid == current_sid else "tertiary",
            width="stretch",
            wrap=False,
            help=f"{fmt.md_text(title)}  \nLast message {when} · {full}",
        )
        with st.popover(
            "",
            icon=":material/more_horiz:",
            key=menus.menu_key(sid),
            on_change="rerun",
            type="tertiary",
        ) as menu:
            if menu.open:
                menus.row_menu(svc, user, session, current_sid)
            else:  # an empty box of the menu's size: the popover opens where the menu fits
                st.container(height=menus.MENU_HEIGHT_PX, border=False)


# Callbacks: they run before the next render, so what is drawn after them is up to date.


def _open(sid: str) -> None:
    """Open a chat: the new query string becomes a browser history entry."""
    st.query_params.from_dict({"session_id": sid})


def _new_chat() -> None:
    """Fallback New chat: the chat page without a session id starts a new one."""
    st.query_params.clear()


def _more() -> None:
    st.session_state[PAGES_KEY] = st.session_state.get(PAGES_KEY, 1) + 1


def _reset_pages() -> None:
    st.session_state.pop(PAGES_KEY, None)
