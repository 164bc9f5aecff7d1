"""The login form's throttle (AppTest, real database): the app counts wrong passwords in the
same database table as the API, so the form pauses an account the API guessed at, and back."""

from __future__ import annotations

import pytest
from app_helpers import assert_no_exception, submit_login

import ui.login
from pa_core import auth


def _errors(at) -> list[str]:
    return [str(e.value) for e in at.error]


@pytest.fixture
def slow_pauses(monkeypatch):
    """Pauses long enough that none ends during a test (no timing in the assertions)."""
    monkeypatch.setattr(ui.login.THROTTLE, "base_delay_s", 60.0)
    return ui.login.THROTTLE


def test_the_form_pauses_after_the_free_failures_and_the_right_password_works_after(
    app_env, slow_pauses, monkeypatch
):
    at = app_env.app(username=None).run()
    for n in range(auth.throttle.FREE_FAILURES):
        submit_login(at, "alice" if n % 2 else "ALICE", f"wrong-{n}")
        assert_no_exception(at)
        assert "Username or password is incorrect." in _errors(at)
    assert slow_pauses.failures(app_env.svc, "account", "alice") == auth.throttle.FREE_FAILURES
    submit_login(at, "alice", "wrong-again")
    assert any("Too many failed logins; try again in" in e for e in _errors(at)), _errors(at)
    submit_login(at, "alice", "alice-password")  # paused: not even the right password is checked
    assert any("Too many failed logins" in e for e in _errors(at))
    assert not at.session_state["authentication_status"]
    # another account is not affected
    other = app_env.app(username=None).run()
    submit_login(other, "bob", "bob-password")
    assert other.session_state["authentication_status"] is True
    # the pause ends (here: made to end now); the right password logs in and resets the count
    monkeypatch.setattr(slow_pauses, "base_delay_s", 0.0)
    submit_login(at, "alice", "alice-password")
    assert_no_exception(at)
    assert at.session_state["authentication_status"] is True
    assert slow_pauses.failures(app_env.svc, "account", "alice") == 0


def test_guesses_counted_by_another_process_pause_the_form(app_env, slow_pauses):
    """A separate throttle on a separate engine (another replica, or the API) shares the count."""
    import pa_core
    from pa_core.db import create_db_engine

    engine = create_db_engine(app_env.url)
    try:
        replica = pa_core.ConversationService(engine)
        other = auth.LoginThrottle()
        for _ in range(auth.throttle.FREE_FAILURES):
            assert other.attempt(replica, "alice", "198.51.100.7", lambda: False) is False
    finally:
        engine.dispose()
    at = app_env.app(username=None).run()
    submit_login(at, "alice", "alice-password")
    assert any("Too many failed logins" in e for e in _errors(at)), _errors(at)


def test_the_client_address_comes_from_x_forwarded_for_only_when_trusted(monkeypatch):
    from pa_core.config import Settings

    class Headers:
        def get_all(self, key):
            return ["203.0.113.9, 10.0.0.1", "192.0.2.44"] if key == "X-Forwarded-For" else []

    class Context:
        headers = Headers()
        ip_address = "10.1.1.1"

    monkeypatch.setattr(ui.login.st, "context", Context())
    monkeypatch.setattr(ui.login.state, "settings", lambda: Settings(trust_forwarded_for=False))
    assert ui.login.client_address() == "10.1.1.1"  # the connection's peer
    monkeypatch.setattr(ui.login.state, "settings", lambda: Settings(trust_forwarded_for=True))
    assert ui.login.client_address() == "192.0.2.44"  # the entry the trusted proxy appended
