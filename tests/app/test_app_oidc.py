"""PA_AUTH_MODE=oidc in AppTest: without Streamlit's login cookie only the SSO button shows."""

from __future__ import annotations

from app_helpers import texts


def test_oidc_mode_shows_only_the_login_button_even_with_yaml_session_flags(app_env, monkeypatch):
    monkeypatch.setenv("PA_AUTH_MODE", "oidc")
    monkeypatch.setenv("PA_OIDC_LABEL", "Example SSO")
    at = app_env.app(username="alice").run()  # the YAML login's session state counts for nothing
    assert not at.exception
    assert [b.label for b in at.button] == ["Log in with Example SSO"]
    assert len(at.chat_input) == 0
    assert "Sign in with your organisation's account." in texts(at)
    assert "setup code" not in texts(at).lower()


def test_a_missing_provider_configuration_is_a_readable_message(app_env, monkeypatch):
    monkeypatch.setenv("PA_AUTH_MODE", "oidc")
    at = app_env.app(username=None).run()
    at.button(key="pa-oidc-login").click().run()  # no [auth] section in any secrets.toml
    assert not at.exception
    assert "Single sign-on is not set up on this server" in texts(at)
