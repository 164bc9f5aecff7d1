"""Single sign-on users (PA_AUTH_MODE=oidc): rows from ID token claims, the admin group, and the
API accepting those users through their tokens (never through a password)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from pa_core import auth
from pa_core.api import create_app
from pa_core.auth import MissingClaims
from pa_core.cli import main
from pa_core.config import Settings

P = "/api/v1/personal-assistant"
DANA = {
    "sub": "u-1",
    "preferred_username": "Dana",
    "email": "dana@example.com",
    "name": "Dana Admin",
    "groups": ["pa-admins", "staff"],
}


def _sync(svc, claims, group="pa-admins"):
    return auth.sync_oidc_user(svc, claims, admin_group=group)


def test_first_login_creates_the_user_from_the_claims(svc):
    user = _sync(svc, DANA)
    assert (user.username, user.display_name, user.email, user.role) == (
        "dana",
        "Dana Admin",
        "dana@example.com",
        "admin",
    )
    assert _sync(svc, DANA).id == user.id  # the next login finds the same row


def test_leaving_the_admin_group_takes_the_role_away_at_the_next_login(svc):
    assert _sync(svc, DANA).role == "admin"
    assert _sync(svc, {**DANA, "groups": ["staff"]}).role == "user"
    assert _sync(svc, {**DANA, "groups": "pa-admins"}).role == "admin"  # one group as a string
    # without PA_OIDC_ADMIN_GROUP the provider decides nothing: the stored role stays
    assert _sync(svc, {**DANA, "groups": ["staff"]}, group=None).role == "admin"


def test_the_username_falls_back_to_a_verified_email_then_the_subject():
    assert auth.oidc_username({"sub": "x", "email": "E@Example.com"}) == "e@example.com"
    unverified = {"sub": "abc-123", "email": "e@example.com", "email_verified": False}
    assert auth.oidc_username(unverified) == "abc-123"
    with pytest.raises(MissingClaims, match="did not say who you are"):
        auth.oidc_username({"name": "Nobody"})


def test_the_api_takes_a_single_sign_on_users_token_but_no_password(
    svc, db_url, auth_file, as_alice, capsys, monkeypatch
):
    monkeypatch.setenv("PA_AUTH_MODE", "oidc")  # for the CLI's own settings
    settings = Settings(auth_mode="oidc", auth_config=auth_file)
    app = create_app(svc, settings)
    with TestClient(app) as client:
        assert client.get(f"{P}/sessions", headers=as_alice).status_code == 401
        assert main(["--database-url", db_url, "token", "create", "dana"]) == 2  # not yet
        assert "log in once by single sign-on" in capsys.readouterr().err
        user = _sync(svc, DANA)
        assert main(["--database-url", db_url, "token", "create", "Dana", "--name", "laptop"]) == 0
        token = capsys.readouterr().out.strip().splitlines()[-1]
        r = client.post(f"{P}/sessions/new", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code in (200, 201), r.text
        assert svc.get_session(r.json()["session_id"], user=user) is not None
