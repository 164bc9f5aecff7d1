"""Login gate and first-run setup through AppTest (real auth YAML, real bcrypt, real database)."""

from __future__ import annotations

import stat
import time

from app_helpers import assert_no_exception, free_port_url, submit_login, text_input, texts

from pa_core import auth


def test_login_form_rejects_a_wrong_password_and_accepts_the_right_one(app_env):
    at = app_env.app(username=None).run()
    assert_no_exception(at)
    assert "Log in" in [b.label for b in at.button]
    assert not at.chat_input  # no page content before login
    submit_login(at, "alice", "wrong-password")
    assert_no_exception(at)
    assert "Username or password is incorrect." in [e.value for e in at.error]
    assert not at.chat_input
    submit_login(at, "alice", "alice-password")
    assert_no_exception(at)
    assert at.session_state["authentication_status"] is True
    assert at.chat_input  # the Chat page
    assert at.query_params.get("session_id")
    assert any("Alice Admin" in m.value for m in at.sidebar.markdown)


def test_an_injected_name_missing_from_the_config_is_not_logged_in(app_env):
    at = app_env.app(username="mallory").run()
    assert_no_exception(at)
    assert not at.chat_input
    assert "Log in" in [b.label for b in at.button]


def test_logout_returns_to_the_login_form(app_env):
    at = app_env.app().run()
    assert at.chat_input
    before = time.time()
    at.sidebar.button(key="pa-logout").click().run()
    assert_no_exception(at)
    assert not at.chat_input
    assert at.session_state["authentication_status"] is None
    # Recorded server side: cookies issued before now no longer log alice in.
    assert before <= auth.last_logout(app_env.auth_path, "alice") <= time.time()
    assert auth.last_logout(app_env.auth_path, "bob") is None


def test_first_run_creates_the_admin_only_with_the_setup_code(app_env, tmp_path, monkeypatch):
    config = tmp_path / "fresh" / "auth.yaml"
    monkeypatch.setenv("PA_AUTH_CONFIG", str(config))
    at = app_env.app(username=None).run()
    assert_no_exception(at)
    assert "Welcome to Personal Assistant" in [t.value for t in at.title]
    code_file = auth.setup_code_path(config)
    assert code_file.exists()
    assert stat.S_IMODE(code_file.stat().st_mode) == 0o600

    def submit(code: str, password: str = "first-admin-pw"):
        text_input(at, "Setup code").set_value(code)
        text_input(at, "Username").set_value("root_admin")
        text_input(at, "Password (at least 8 characters)").set_value(password)
        text_input(at, "Repeat password").set_value(password)
        [b for b in at.button if b.label == "Create administrator"][0].click()
        return at.run()

    submit("not-the-code")
    assert "That setup code is not right." in texts(at)
    assert not auth.has_users(config)

    code = code_file.read_text().strip()
    submit(code, password="short")
    assert not auth.has_users(config)
    assert "at least 8" in texts(at)

    submit(code)
    assert_no_exception(at)
    loaded = auth.load_auth_config(config)
    entry = loaded["credentials"]["usernames"]["root_admin"]
    assert entry["roles"] == ["admin"] and entry["password"].startswith("$2")
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert not code_file.exists()
    assert "Administrator 'root_admin' created. Log in." in texts(at)
    assert app_env.svc.get_user("root_admin").role == "admin"
    submit_login(at, "root_admin", "first-admin-pw")
    assert at.chat_input


def test_no_setup_form_once_a_user_exists(app_env):
    at = app_env.app(username=None).run()
    assert "Setup code" not in [t.label for t in at.text_input]
    assert not auth.setup_code_path(app_env.auth_path).exists()


def test_unreachable_database_is_a_readable_error_not_a_traceback(app_env, monkeypatch):
    monkeypatch.setenv("PA_DATABASE_URL", free_port_url())
    at = app_env.app().run()
    assert_no_exception(at)
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and errors[0].startswith("The app cannot start:")
    assert not at.chat_input


def test_a_mixed_case_config_user_logs_in_under_either_case_as_one_user(
    app_env, tmp_path, monkeypatch
):
    path = tmp_path / "mixed" / "auth.yaml"
    auth.add_user(path, "Alice", "mixed-case-pw", name="Alice Mixed")
    monkeypatch.setenv("PA_AUTH_CONFIG", str(path))
    ids = set()
    for typed in ("Alice", "alice", "ALICE"):
        at = app_env.app(username=None).run()
        submit_login(at, typed, "mixed-case-pw")
        assert_no_exception(at)
        assert at.chat_input, typed
        user = at.session_state["pa_user"]
        assert user.username == "Alice", typed
        ids.add(user.id)
    assert ids == {app_env.svc.get_user("Alice").id}
