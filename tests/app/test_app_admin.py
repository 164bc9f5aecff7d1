"""The admin page in AppTest: admins manage users through the service; others see nothing."""

from __future__ import annotations

import pytest
from app_helpers import assert_no_exception, texts

from pa_core import auth


def test_the_admin_page_lists_users_with_counts(app_env):
    s = app_env.svc.create_session(user=app_env.bob, title="Bob's private plans")
    app_env.svc.add_message(s.session_id, user=app_env.bob, content="my secret plan")
    at = app_env.page("admin", username="alice")
    assert_no_exception(at)
    assert "Admin" in texts(at)
    users = at.dataframe[0].value
    bob = users[users["Username"] == "bob"].iloc[0]
    assert (bob["Sessions"], bob["Messages"], bob["Status"]) == (1, 1, "active")
    page_text = texts(at) + users.to_string()
    assert "secret plan" not in page_text and "private plans" not in page_text


def test_a_non_admin_has_no_admin_page(app_env):
    at = app_env.app(username="bob").run()
    with pytest.raises(ValueError, match="Known pages") as refused:
        at.switch_page("pages/admin.py")  # not registered for bob
    assert "admin.py" not in str(refused.value).split("Known pages")[1]
    admin = app_env.app(username="alice").run()
    admin.switch_page("pages/admin.py")  # registered for alice
    assert "Audit log" in texts(admin.run())


def test_disable_from_the_page_then_the_user_cannot_log_in(app_env):
    at = app_env.page("admin", username="alice")
    at.selectbox(key="pa-admin-user").set_value("bob").run()
    at.button(key="pa-admin-toggle").click().run()
    assert_no_exception(at)
    assert "bob is disabled." in texts(at)
    assert app_env.svc.get_user("bob").is_disabled
    events = app_env.svc.audit_events(app_env.svc.get_user("alice"))
    assert [(e.actor_username, e.action, e.target) for e in events][0] == (
        "alice",
        "user.disable",
        "bob",
    )
    bob_app = app_env.app(username="bob").run()  # a session of bob's, as after a login
    assert_no_exception(bob_app)
    assert "This account is disabled" in texts(bob_app)
    assert auth.find_username(auth.load_auth_config(app_env.auth_path), "bob") == "bob"
