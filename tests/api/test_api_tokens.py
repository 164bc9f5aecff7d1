"""Per-user API tokens: issued by the CLI, stored hashed, accepted as Bearer, revocable."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import text, update

from pa_core.cli import main
from pa_core.models import utcnow
from pa_core.service.tables import TOKENS

P = "/api/v1/personal-assistant"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_cli_issues_a_token_stored_only_as_a_hash(db_url, auth_file, svc, client, capsys):
    argv = ["--database-url", db_url, "token", "create", "alice", "--name", "ci"]
    assert main([*argv, "--auth-config", str(auth_file)]) == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith("pa_") and len(token) > 40
    with svc.engine.connect() as conn:
        rows = conn.execute(text("SELECT token_hash, token_prefix, name FROM api_tokens")).all()
    assert rows == [(hashlib.sha256(token.encode()).hexdigest(), token[:10], "ci")]
    assert token not in str(rows)

    r = client.get(f"{P}/sessions", headers=_bearer(token))
    assert r.status_code == 200, r.text
    sid = client.post(f"{P}/sessions/new", headers=_bearer(token)).json()["session_id"]
    assert svc.get_session(sid, user=svc.get_user("alice")) is not None

    assert (
        main(["--database-url", db_url, "token", "list", "alice", "--auth-config", str(auth_file)])
        == 0
    )
    listing = capsys.readouterr().out
    assert token[:10] in listing and "active" in listing and token not in listing
    token_id = int(listing.split("\t")[0])
    assert (
        main(
            [
                "--database-url",
                db_url,
                "token",
                "revoke",
                "alice",
                str(token_id),
                "--auth-config",
                str(auth_file),
            ]
        )
        == 0
    )
    capsys.readouterr()
    r = client.get(f"{P}/sessions", headers=_bearer(token))
    assert r.status_code == 401 and "Bearer" in r.headers["WWW-Authenticate"]
    # a login that is not in the auth YAML gets no token
    assert (
        main(
            [
                "--database-url",
                db_url,
                "token",
                "create",
                "mallory",
                "--auth-config",
                str(auth_file),
            ]
        )
        == 2
    )
    assert "no login named" in capsys.readouterr().err


def test_token_isolation_expiry_and_bad_tokens(svc, api_app, client, as_alice):
    alice = svc.ensure_user("alice")
    bob = svc.ensure_user("bob")
    alice_token, _ = svc.issue_token(alice)
    bob_token, bob_rec = svc.issue_token(bob, expires_in_days=1)
    sid = client.post(f"{P}/sessions/new", headers=_bearer(alice_token)).json()["session_id"]
    r = client.get(f"{P}/sessions/{sid}/messages", headers=_bearer(bob_token))
    assert r.status_code == 404
    assert client.get(f"{P}/sessions", headers=_bearer(bob_token)).json()["items"] == []
    # bob cannot revoke alice's token
    alice_id = svc.list_tokens(alice)[0].id
    assert svc.revoke_token(bob, alice_id) is False
    assert client.get(f"{P}/sessions", headers=_bearer(alice_token)).status_code == 200
    # an expired token stops working: the API's cached look-up checks the expiry on every use
    # (its clock moved past it), and the database look-up then finds it expired
    with svc.engine.begin() as conn:
        conn.execute(
            update(TOKENS)
            .where(TOKENS.c.id == bob_rec.id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    api_app.state.pa.authenticator.tokens.now = lambda: utcnow() + timedelta(days=1, minutes=1)
    assert client.get(f"{P}/sessions", headers=_bearer(bob_token)).status_code == 401
    assert not svc.list_tokens(bob)[0].active
    for bad in ("pa_", "pa_" + "x" * 43, "nottoken", "pa_" + "y" * 500, alice_token + "x"):
        r = client.get(f"{P}/sessions", headers=_bearer(bad))
        assert r.status_code == 401, bad
    # last use is recorded
    assert svc.list_tokens(alice)[0].last_used_at is not None


def test_token_of_a_login_removed_from_the_yaml_stops_working(tmp_path, svc, make_auth_file):
    from fastapi.testclient import TestClient

    from pa_core.api import create_app

    path = make_auth_file(tmp_path / "auth.yaml", {"carol": "carol-secret-1"})
    carol = svc.ensure_user("carol")
    token, _ = svc.issue_token(carol, name="script")
    with TestClient(create_app(svc, auth_config=path)) as c:
        assert c.get(f"{P}/sessions", headers=_bearer(token)).status_code == 200
        assert svc.get_user("carol").display_name == "Carol Tester"  # profile synced
        make_auth_file(path, {"dave": "dave-secret-1"})
        assert c.get(f"{P}/sessions", headers=_bearer(token)).status_code == 401


@pytest.mark.parametrize("days", [0, -1, 3651, True])
def test_token_expiry_must_be_sensible(svc, days):
    from pa_core.errors import ValidationError

    with pytest.raises(ValidationError):
        svc.issue_token(svc.ensure_user("alice"), expires_in_days=days)
