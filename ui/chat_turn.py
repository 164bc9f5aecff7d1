"""The Chat page's running parts: a reply streaming in (working indicator, Stop) and the sync
that writes messages kept during a database outage as soon as the database is back.

A reply is consumed here, not by st.write_stream: the generator is closed in a `finally`, so a
Stop, a rerun (a message sent during the reply, a click elsewhere) or leaving the page stores
the partial reply as interrupted at that moment, never later and never as an error.

Streamlit's fast reruns start the next run at once, in another thread, while the interrupted
one is still unwinding; so a reply in flight leaves an Event in st.session_state that is set
once its partial reply is stored, and the next run waits for it (`wait_for_previous_reply`)
before it reads the conversation or stores a new message: the order stays the order of events.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import streamlit as st

from pa_core import PAError
from ui import format as fmt

STOPPED_KEY = "pa_chat_stopped"
IN_FLIGHT_KEY = "pa_chat_in_flight"  # threading.Event: set once the reply in flight is stored
PREVIOUS_REPLY_WAIT_S = 30.0  # at most this long for an interrupted reply to be stored
SYNC_EVERY_S = 2.0  # how often the page tries the database while messages wait
REDRAW_EVERY_S = 0.05  # at most this often the streamed text is redrawn
WORKING = "Working on it…"


def stop_clicked() -> None:
    """Stop button callback: the next run says the reply was stopped."""
    st.session_state[STOPPED_KEY] = True


def wait_for_previous_reply() -> None:
    """When a run interrupted a reply (Stop, a new message), wait until that reply is stored."""
    done = st.session_state.get(IN_FLIGHT_KEY)
    if done is None or done.is_set():
        return
    with st.spinner("Finishing the previous reply…"):
        done.wait(PREVIOUS_REPLY_WAIT_S)


def stream_reply(start: Callable[[], Iterator[str]]) -> str:
    """Draw a reply as it streams, with Stop; the text shown. The generator is always closed."""
    done = threading.Event()
    st.session_state[IN_FLIGHT_KEY] = done
    try:
        return _stream(start)
    finally:
        done.set()


def _stream(start: Callable[[], Iterator[str]]) -> str:
    """The reply's bubble: Stop, the working indicator, the text as it comes."""
    with st.chat_message("assistant"):
        st.button(
            "Stop",
            key="pa-stop",
            icon=":material/stop_circle:",
            help="Stop the reply; what it said so far is kept, marked as stopped.",
            on_click=stop_clicked,
        )
        box = st.empty()
        chunks = start()
        try:
            with box, st.spinner(WORKING, show_time=True):
                first = next(chunks, None)  # the user message is stored, the model is asked
            return _draw(box, chunks, first or "")
        finally:
            chunks.close()  # interrupted (Stop, rerun, navigation): stored now, marked


def _draw(box: Any, chunks: Iterator[str], text: str) -> str:
    """Redraw the growing text (at most every REDRAW_EVERY_S); each redraw is a point where
    Streamlit can interrupt the run (a Stop or a new message)."""
    box.markdown(fmt.no_remote_images(text) + " ▍")
    drawn = time.monotonic()
    for chunk in chunks:
        text += chunk
        if time.monotonic() - drawn >= REDRAW_EVERY_S:
            box.markdown(fmt.no_remote_images(text) + " ▍")
            drawn = time.monotonic()
    box.markdown(fmt.no_remote_images(text))
    return text


def keep_syncing(svc: Any, bot: Any, *, db_down: bool) -> None:
    """While messages wait in the spool (or the database is down), try again every
    SYNC_EVERY_S seconds and rerun the page once everything is written."""
    if db_down or bot.pending_count:
        _sync(svc, bot)


@st.fragment(run_every=SYNC_EVERY_S)
def _sync(svc: Any, bot: Any) -> None:
    """One try: write what waits; when nothing waits and the database answers, rerun."""
    with contextlib.suppress(PAError):  # still down (or the spool unreadable): try again soon
        bot.flush_pending()
    waiting = bot.pending_count
    if waiting == 0 and svc.ping():
        st.rerun(scope="app")
    kept = (
        f" {waiting:,} message(s) are kept on this server and saved automatically as soon as "
        "it is back."
        if waiting
        else " You can keep writing: your messages are kept on this server and saved "
        "automatically as soon as it is back."
    )
    st.warning(f"The database is not available right now.{kept}", icon=":material/cloud_off:")
