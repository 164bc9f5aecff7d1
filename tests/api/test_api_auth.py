"""Who is calling: HTTP Basic against the auth YAML, the login cache and the throttle."""

from __future__ import annotations

import base64

P = "/api/v1/personal-assistant"


def test_wrong_or_missing_credentials_are_401(client, creds):
    throttle = client.app.state.pa.authenticator.throttle  # throttling: its own tests
    throttle.free_failures = throttle.address_free_failures = 10_000
    urls = [
        ("GET", f"{P}/sessions"),
        ("POST", f"{P}/sessions/new"),
        ("GET", f"{P}/search?q=x"),
        ("GET", f"{P}/metrics"),
        ("GET", f"{P}/export.csv"),
        ("POST", f"{P}/chat"),
    ]
    bad = [
        {},
        creds("alice", "wrong-password"),
        creds("alice", ""),
        {"Authorization": "Basic !!!notbase64"},
        {"Authorization": "Bearer abc"},
        {"Authorization": "Basic " + "bm9jb2xvbg=="},  # "nocolon"
        {"Authorization": "Basic bWFsbG9yeTp4eHh4eHh4eA=="},  # mallory: not in the file
    ]
    for method, url in urls:
        for headers in bad:
            r = client.request(method, url, headers=headers, json={"message": "hi"})
            assert r.status_code == 401, (method, url, headers)
            assert r.headers["WWW-Authenticate"].startswith("Basic")
            assert isinstance(r.json()["detail"], str)


def test_failed_logins_are_throttled_per_username(api_app, client, creds, as_alice, as_bob):
    from pa_core.auth.throttle import MAX_FAILURES

    api_app.state.pa.authenticator.throttle.base_delay_s = 60  # no pause ends during the test

    assert client.get(f"{P}/sessions", headers=as_alice).status_code == 200  # cached as good
    for _ in range(MAX_FAILURES):
        assert client.get(f"{P}/sessions", headers=creds("alice", "guess")).status_code == 401
    paused = client.get(f"{P}/sessions", headers=creds("alice", "one-more-guess"))
    assert paused.status_code == 429
    assert int(paused.headers["Retry-After"]) > 0 and "Too many" in paused.json()["detail"]
    checks = api_app.state.pa.authenticator.bcrypt_checks
    assert client.get(f"{P}/sessions", headers=creds("alice", "x")).status_code == 429
    assert api_app.state.pa.authenticator.bcrypt_checks == checks  # no bcrypt while paused
    # the session already verified keeps working; other users are not affected
    assert client.get(f"{P}/sessions", headers=as_alice).status_code == 200
    assert client.get(f"{P}/sessions", headers=as_bob).status_code == 200
    api_app.state.pa.authenticator.throttle.reset_after_s = 0  # the counter goes idle
    assert client.get(f"{P}/sessions", headers=creds("alice", "guess")).status_code == 401


def test_non_ascii_password_and_cache(tmp_path, svc, make_auth_file, creds):
    from fastapi.testclient import TestClient

    from pa_core.api import create_app

    path = make_auth_file(tmp_path / "auth.yaml", {"zoë": "pässwörd-ünïcode"})
    app = create_app(svc, auth_config=path)
    authn = app.state.pa.authenticator
    with TestClient(app) as c:
        token = base64.b64encode("zoë:pässwörd-ünïcode".encode()).decode()
        headers = {"Authorization": f"Basic {token}"}
        for _ in range(3):
            assert c.get(f"{P}/sessions", headers=headers).status_code == 200
        assert authn.bcrypt_checks == 1  # verified once, then served from the cache
        assert svc.get_user("zoë") is not None
        # a changed password in the file invalidates the cache at once
        make_auth_file(path, {"zoë": "another-password"})
        assert c.get(f"{P}/sessions", headers=headers).status_code == 401
        wrong = {"Authorization": "Basic " + base64.b64encode(b"zo:x").decode()}
        assert c.get(f"{P}/sessions", headers=wrong).status_code == 401


def test_malformed_auth_config_is_503_not_500(tmp_path, svc, as_alice):
    from fastapi.testclient import TestClient

    from pa_core.api import create_app

    path = tmp_path / "auth.yaml"
    path.write_text("credentials: [unclosed", encoding="utf-8")
    with TestClient(create_app(svc, auth_config=path)) as c:
        r = c.get(f"{P}/sessions", headers=as_alice)
    assert r.status_code == 503
    assert "login configuration" in r.json()["detail"]


def test_cached_login_expires_after_the_ttl(api_app, client, as_alice):
    authn = api_app.state.pa.authenticator
    before = authn.bcrypt_checks
    assert client.get(f"{P}/sessions", headers=as_alice).status_code == 200
    assert client.get(f"{P}/sessions", headers=as_alice).status_code == 200
    assert authn.bcrypt_checks == before + 1
    authn.ttl_s = 0  # entries stored from now on are stale at once
    authn.clear()
    for _ in range(2):
        assert client.get(f"{P}/sessions", headers=as_alice).status_code == 200
    assert authn.bcrypt_checks == before + 3


def test_usernames_match_in_any_case_like_the_app(tmp_path, svc, make_auth_file):
    """YAML user `Alice` logs in as `Alice` or `alice`; the row keeps the config's spelling."""
    from fastapi.testclient import TestClient

    from pa_core.api import create_app

    path = make_auth_file(tmp_path / "auth.yaml", {"Alice": "alice-secret-1"})

    def as_(name: str, password: str = "alice-secret-1") -> dict[str, str]:
        token = base64.b64encode(f"{name}:{password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    with TestClient(create_app(svc, auth_config=path)) as c:
        sid = c.post(f"{P}/sessions/new", headers=as_("Alice")).json()["session_id"]
        r = c.get(f"{P}/sessions", headers=as_("alice"))
        assert r.status_code == 200, r.text
        assert [s["session_id"] for s in r.json()["items"]] == [sid]  # one user, not two
        assert c.get(f"{P}/sessions", headers=as_("ALICE")).status_code == 200
        assert c.get(f"{P}/sessions", headers=as_("alice", "wrong-pass")).status_code == 401
        assert c.get(f"{P}/sessions", headers=as_("Alice", "wrong-pass")).status_code == 401
    assert [u.username for u in svc.list_users()] == ["Alice"]


def test_wrong_passwords_in_any_case_count_for_one_user(api_app, client, creds):
    """The throttle counts `alice` and `ALICE` together."""
    from pa_core.auth.throttle import MAX_FAILURES

    api_app.state.pa.authenticator.throttle.base_delay_s = 60

    for i in range(MAX_FAILURES):
        name = "ALICE" if i % 2 else "alice"
        assert client.get(f"{P}/sessions", headers=creds_for(name, "guess")).status_code == 401
    assert client.get(f"{P}/sessions", headers=creds_for("Alice", "guess")).status_code == 429


def creds_for(name: str, password: str) -> dict[str, str]:
    """An Authorization header for any spelling of a username."""
    token = base64.b64encode(f"{name}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}
