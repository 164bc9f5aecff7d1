"""A disabled account gets 403 from every API login path (Basic, cached Basic, tokens)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from pa_core.api import PREFIX, create_app

DISABLED = "This account is disabled. Ask your administrator."


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_disabled_user_gets_403_from_basic_and_tokens(svc, client, auth_file, creds):
    root = svc.ensure_user("root", role="admin")
    alice = svc.ensure_user("alice")
    token, _record = svc.issue_token(alice, name="ci")
    assert client.get(f"{PREFIX}/sessions", headers=creds("alice")).status_code == 200
    assert client.get(f"{PREFIX}/sessions", headers=_bearer(token)).status_code == 200

    svc.admin_set_disabled(root, "alice", True)
    cached = client.get(f"{PREFIX}/sessions", headers=creds("alice"))  # a cached good password
    assert (cached.status_code, cached.json()["detail"]) == (403, DISABLED)
    by_token = client.get(f"{PREFIX}/sessions", headers=_bearer(token))
    assert (by_token.status_code, by_token.json()["detail"]) == (403, DISABLED)
    with TestClient(create_app(svc, auth_config=auth_file)) as fresh:  # nothing cached
        first = fresh.get(f"{PREFIX}/sessions", headers=creds("alice"))
        assert (first.status_code, first.json()["detail"]) == (403, DISABLED)
        wrong = fresh.get(f"{PREFIX}/sessions", headers=creds("alice", "not-her-password"))
        assert wrong.status_code == 401  # a wrong password says nothing about the account
        chat = fresh.post(f"{PREFIX}/chat", json={"message": "hi"}, headers=creds("alice"))
        assert chat.status_code == 403
    assert client.get(f"{PREFIX}/sessions", headers=creds("bob")).status_code == 200

    svc.admin_set_disabled(root, "alice", False)
    assert client.get(f"{PREFIX}/sessions", headers=creds("alice")).status_code == 200
    assert client.get(f"{PREFIX}/sessions", headers=_bearer(token)).status_code == 200
