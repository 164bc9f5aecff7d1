"""Admin: users (activity and counts, never content), add, password, disable, role; retention
and cleanup; the audit log. Everything goes through the service, which checks the admin again."""

from __future__ import annotations

import streamlit as st

import ui
from pa_core import PAError
from ui import admin_view, exports

user = ui.require_admin()
svc = ui.service()
auth_config = ui.settings().auth_config
retention_days = ui.settings().session_retention_days

st.title("Admin")
st.caption(
    "Accounts, retention and the audit log. You see counts and activity only: nobody's "
    "conversations are shown here."
)
admin_view.show_flash()

try:
    people = svc.admin_users(user, auth_config=auth_config)
except PAError as exc:
    ui.show_error(exc, "The users could not be listed")
    st.stop()

# -- users -----------------------------------------------------------------------------------
st.subheader("Users")
st.dataframe(
    admin_view.user_rows(people),
    hide_index=True,
    width="stretch",
    column_config=admin_view.USER_COLUMNS,
    key="pa-admin-users",
)

manage, add = st.columns(2, gap="large")
with manage, st.container(border=True):
    st.markdown("**Manage a user**")
    names = [p.username for p in people]
    chosen = st.selectbox("User", names, key="pa-admin-user")
    target = next((p for p in people if p.username == chosen), None)
    if target is not None:
        st.caption(admin_view.describe(target))
        role = st.segmented_control(
            "Role", ["user", "admin"], default=target.role, key=f"pa-admin-role-{target.id}"
        )
        if st.button("Change role", disabled=role in (None, target.role), key="pa-admin-set-role"):
            admin_view.act(
                lambda: svc.admin_set_role(user, target.username, role, auth_config=auth_config),
                f"{target.username} is now {role}.",
            )
        label, icon = (
            ("Enable account", ":material/check_circle:")
            if target.disabled_at
            else ("Disable account", ":material/block:")
        )
        if st.button(label, key="pa-admin-toggle", icon=icon):
            admin_view.act(
                lambda: svc.admin_set_disabled(user, target.username, not target.disabled_at),
                f"{target.username} is {'enabled' if target.disabled_at else 'disabled'}.",
            )
        with st.form("pa-admin-password", clear_on_submit=True):
            new_pw = st.text_input("New password (at least 8 characters)", type="password")
            repeat_pw = st.text_input("Repeat the new password", type="password")
            if st.form_submit_button("Reset password"):
                if new_pw != repeat_pw:
                    st.error("The two passwords differ.")
                else:
                    admin_view.act(
                        lambda: svc.admin_reset_password(
                            user, target.username, new_pw, auth_config=auth_config
                        ),
                        f"New password set for {target.username}.",
                    )

with add, st.container(border=True):
    st.markdown("**Add a user**")
    with st.form("pa-admin-add", clear_on_submit=True):
        username = st.text_input("Username", placeholder="e.g. dana")
        display_name = st.text_input("Display name (optional)")
        email = st.text_input("Email (optional)")
        password = st.text_input("Password (at least 8 characters)", type="password")
        repeat = st.text_input("Repeat password", type="password")
        make_admin = st.checkbox("Administrator")
        if st.form_submit_button("Add user", type="primary"):
            if password != repeat:
                st.error("The two passwords differ.")
            else:
                admin_view.act(
                    lambda: svc.admin_add_user(
                        user,
                        username.strip(),
                        password,
                        auth_config=auth_config,
                        display_name=display_name,
                        email=email,
                        role="admin" if make_admin else "user",
                    ),
                    f"Added {username.strip()}. They can log in now.",
                )

# -- retention -------------------------------------------------------------------------------
st.subheader("Retention")
st.write(
    f"Sessions idle for more than **{retention_days} days** (`PA_SESSION_RETENTION_DAYS`) are "
    "removed by a cleanup, with their messages. Pinned sessions are always kept."
)
days = st.number_input(
    "Idle for more than (days)", min_value=0, value=retention_days, step=1, key="pa-admin-days"
)
try:
    preview = svc.retention_preview(user, int(days))
except PAError as exc:
    ui.show_error(exc, "The cleanup preview failed")
else:
    st.info(admin_view.preview_text(preview), icon=":material/preview:")
    sure = st.checkbox(
        f"Yes, delete these {preview.removable} session(s) for good",
        disabled=not preview.removable,
        key=f"pa-admin-sure-{preview.days}-{preview.removable}",
    )
    if st.button("Run cleanup", disabled=not (sure and preview.removable), key="pa-admin-clean"):
        admin_view.act(
            lambda: svc.admin_cleanup(user, preview.days),
            "Cleanup done.",
            result=lambda n: f"Cleanup removed {n} session(s).",
        )

# -- audit log -------------------------------------------------------------------------------
st.subheader("Audit log")
try:
    events = svc.audit_events(user, limit=admin_view.AUDIT_ROWS)
except PAError as exc:
    ui.show_error(exc, "The audit log could not be read")
    st.stop()
st.download_button(
    "Download audit log (CSV)",
    data=lambda: "".join(svc.audit_csv(user)),
    file_name=exports.audit_file_name(),
    mime="text/csv",
    on_click="ignore",
    icon=":material/download:",
    key="pa-admin-audit-csv",
)
if events:
    st.dataframe(
        admin_view.audit_rows(events),
        hide_index=True,
        width="stretch",
        column_config=admin_view.AUDIT_COLUMNS,
        key="pa-admin-audit",
    )
    st.caption(f"The newest {len(events)} event(s); the CSV has all of them.")
else:
    st.caption("No events yet.")
