"""What the admin page shows: table rows, short descriptions, and the act-then-rerun step."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import streamlit as st

from pa_core import PAError
from pa_core.records import AuditEvent, UserOverview
from ui import format as fmt
from ui import state

FLASH_KEY = "pa_admin_flash"
AUDIT_ROWS = 100
USER_COLUMNS = {
    "Sessions": st.column_config.NumberColumn(format="%d"),
    "Messages": st.column_config.NumberColumn(format="%d"),
}
AUDIT_COLUMNS = {"Details": st.column_config.TextColumn(width="large")}
ACTION_LABELS = {
    "user.add": "user added",
    "user.disable": "user disabled",
    "user.enable": "user enabled",
    "user.role": "role changed",
    "user.password_reset": "password reset",
    "cleanup": "cleanup",
    "backup": "backup of everyone",
    "restore": "restore",
    "import": "import",
    "token.create": "API token created",
    "token.revoke": "API token revoked",
}


def user_rows(people: list[UserOverview]) -> list[dict[str, Any]]:
    """One row per user: the account, its activity and counts (never content)."""
    return [
        {
            "Username": p.username,
            "Name": p.display_name or "",
            "Role": p.role,
            "Status": "disabled" if p.disabled_at else "active",
            "Sessions": p.sessions,
            "Messages": p.messages,
            "Last activity": fmt.format_timestamp(p.last_activity_at) or "never",
            "Created": fmt.format_timestamp(p.created_at),
        }
        for p in people
    ]


def describe(p: UserOverview) -> str:
    """One line about the chosen user."""
    status = f"disabled since {fmt.format_timestamp(p.disabled_at)}" if p.disabled_at else "active"
    return f"{p.role} · {status} · {p.sessions} session(s), {p.messages} message(s)"


def audit_rows(events: list[AuditEvent]) -> list[dict[str, Any]]:
    """One row per audit event, newest first."""
    return [
        {
            "When": fmt.format_timestamp(e.at),
            "Who": e.actor_username,
            "What": ACTION_LABELS.get(e.action, e.action),
            "Target": e.target or "",
            "Details": details_text(e.details),
        }
        for e in events
    ]


def details_text(details: dict[str, Any] | None) -> str:
    """`key: value` pairs of an event's details, for the table."""
    if not details:
        return ""
    return ", ".join(f"{k.replace('_', ' ')}: {json.dumps(v)}" for k, v in details.items())


def preview_text(preview: Any) -> str:
    """What a cleanup would do now, in words."""
    kept = f"; {preview.pinned_kept} pinned session(s) would be kept" if preview.pinned_kept else ""
    return (
        f"A cleanup now would remove {preview.removable} session(s) idle for more than "
        f"{preview.days} days{kept}."
    )


def act(
    action: Callable[[], Any], message: str, *, result: Callable[[Any], str] | None = None
) -> None:
    """Run one admin action; on success remember `message` and rerun, else say why."""
    try:
        outcome = action()
    except PAError as exc:
        st.error(state.user_message(exc), icon=":material/error:")
        return
    st.session_state[FLASH_KEY] = result(outcome) if result else message
    st.rerun()


def show_flash() -> None:
    """The outcome of the last action, once."""
    if flash := st.session_state.pop(FLASH_KEY, None):
        st.success(flash, icon=":material/check_circle:")
