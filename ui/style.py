"""The app's few CSS rules (sidebar rows, code blocks and cards on a phone), injected once a run."""

from __future__ import annotations

import streamlit as st

CSS = """
<style>
/* Sidebar chat rows: one line (title cut with an ellipsis, then the menu), left-aligned. */
[class*="st-key-pa-side-row-"] { flex-wrap: nowrap !important; gap: 0 !important; }
[class*="st-key-pa-side-open-"] { flex: 1 1 0% !important; min-width: 0 !important; }
[class*="st-key-pa-side-row-"] button { min-height: 2rem; padding: 0 0.5rem; }
[class*="st-key-pa-side-open-"] button { width: 100%; justify-content: flex-start; }
[class*="st-key-pa-side-open-"] button > div { justify-content: flex-start; min-width: 0; }
[class*="st-key-pa-side-open-"] button p { text-align: left; overflow: hidden;
  text-overflow: ellipsis; white-space: nowrap; }
[class*="st-key-pa-side-open-"] button[kind="tertiary"]:hover {
  background: rgba(128, 128, 128, 0.12); }
[class*="st-key-pa-side-menu-"] [data-testid="stPopoverButton"] div[aria-hidden="true"] {
  display: none; }
[data-testid="stSidebar"] [class*="st-key-pa-side-"] { margin-bottom: -0.6rem; }
[class*="st-key-pa-side-head-"] { margin-top: 0.6rem; }
[data-testid="stPopoverBody"]:has([class*="st-key-pa-side-"]) [data-testid="stVerticalBlock"] {
  gap: 0.25rem; }
/* Page headings (a chat's title) stay on one line, cut with an ellipsis. */
[data-testid="stMainBlockContainer"] h3 { overflow: hidden; text-overflow: ellipsis;
  white-space: nowrap; }
/* A message bubble never grows wider than the screen: its content may shrink below its
   widest child, code blocks scroll inside the bubble, long words and links wrap. */
[data-testid="stChatMessage"] { min-width: 0; max-width: 100%; }
[data-testid="stChatMessageContent"] { min-width: 0; max-width: 100%; overflow-wrap: anywhere; }
[data-testid="stChatMessageContent"] pre { max-width: 100%; overflow-x: auto; }
@media (max-width: 640px) {
  /* Phones: code wraps (nothing hides behind a sideways scroll); tighter cards and margins. */
  [data-testid="stChatMessageContent"] pre code { white-space: pre-wrap !important;
    overflow-wrap: anywhere; }
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
