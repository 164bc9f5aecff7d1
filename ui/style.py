"""The app's few CSS rules (sidebar rows, code blocks and cards on a phone), injected once a run."""

from __future__ import annotations

import streamlit as st

CSS = """
<style>
/* Sidebar chat rows: one line, title left-aligned, compact. */
[class*="st-key-pa-side-row-"] { gap: 0 !important; }
[class*="st-key-pa-side-row-"] button { min-height: 2rem; padding-top: 0; padding-bottom: 0; }
[class*="st-key-pa-side-open-"] button { justify-content: flex-start; text-align: left; }
[class*="st-key-pa-side-open-"] button p { overflow: hidden; text-overflow: ellipsis;
  white-space: nowrap; }
[data-testid="stSidebar"] [data-testid="stCaptionContainer"] { margin-top: 0.5rem; }
/* A message bubble never grows wider than the screen: its content may shrink below its
   widest child, code blocks scroll inside the bubble, long words and links wrap. */
[data-testid="stChatMessage"] { min-width: 0; max-width: 100%; }
[data-testid="stChatMessageContent"] { min-width: 0; max-width: 100%; overflow-wrap: anywhere; }
[data-testid="stChatMessageContent"] pre { max-width: 100%; overflow-x: auto; }
@media (max-width: 640px) {
  /* Phones: code wraps instead of scrolling sideways; cards and page margins are tighter. */
  [data-testid="stChatMessageContent"] pre,
  [data-testid="stChatMessageContent"] pre code { white-space: pre-wrap; word-break: break-word; }
  .block-container, [data-testid="stMainBlockContainer"] { padding-left: 0.75rem;
    padding-right: 0.75rem; padding-top: 2.5rem; }
  [data-testid="stVerticalBlockBorderWrapper"] { padding: 0.5rem !important; }
  [data-testid="stChatMessage"] { padding: 0.5rem 0.25rem; gap: 0.5rem; }
}
</style>
"""


def inject() -> None:
    """Add the app's CSS to this run's page (a style-only st.html takes no space)."""
    st.html(CSS)
