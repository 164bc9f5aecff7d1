"""Sessions and messages endpoints over HTTP (TestClient) on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import uuid

P = "/api/v1/personal-assistant"


def _new(client, headers, title=None):
    body = {"title": title} if title is not None else None
    r = client.post(f"{P}/sessions/new", json=body, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["session_id"]


def test_health_needs_no_auth_and_reports_database(client):
    r = client.get(f"{P}/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "reachable"}


def test_new_session_without_body_and_with_title(client, svc, as_alice):
    r = client.post(f"{P}/sessions/new", headers=as_alice)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) >= {"session_id", "created_at"}
    assert uuid.UUID(body["session_id"])
    sid = _new(client, as_alice, "Trip to Lisbon")
    alice = svc.get_user("alice")
    assert alice.display_name == "Alice Tester" and alice.email == "alice@example.com"
    s = svc.get_session(sid, user=alice)
    assert s is not None and s.title == "Trip to Lisbon"


def test_new_session_rejects_bad_titles(client, as_alice):
    r = client.post(f"{P}/sessions/new", json={"title": "x" * 256}, headers=as_alice)
    assert r.status_code == 422
    assert "title" in r.json()["detail"]
    r = client.post(f"{P}/sessions/new", json={"title": 5}, headers=as_alice)
    assert r.status_code == 422
    r = client.post(f"{P}/sessions/new", json={"nope": 1}, headers=as_alice)
    assert r.status_code == 422
    r = client.post(
        f"{P}/sessions/new",
        content=b"{not json",
        headers={**as_alice, "Content-Type": "application/json"},
    )
    assert r.status_code == 422
    assert isinstance(r.json()["detail"], str)
    r = client.post(
        f"{P}/sessions/new",
        content=b'{"title": "\xff"}',  # not UTF-8
        headers={**as_alice, "Content-Type": "application/json"},
    )
    assert r.status_code == 422
    assert "not valid JSON (UTF-8)" in r.json()["detail"]


def test_session_list_newest_first_with_cursor_paging(client, svc, as_alice):
    sids = [_new(client, as_alice, f"s{i}") for i in range(7)]
    alice = svc.get_user("alice")
    svc.add_message(sids[2], user=alice, content="bump")  # now the newest activity
    expected = [sids[2], *[s for s in reversed(sids) if s != sids[2]]]
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        r = client.get(f"{P}/sessions", params=params, headers=as_alice)
        assert r.status_code == 200, r.text
        page = r.json()
        pages += 1
        seen += [s["session_id"] for s in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected
    assert pages == 3
    first = client.get(f"{P}/sessions", headers=as_alice).json()["items"][0]
    assert first["session_id"] == sids[2] and first["message_count"] == 1


def test_session_list_title_filter_and_archived(client, as_alice):
    a = _new(client, as_alice, "Budget 2027")
    _new(client, as_alice, "Holiday")
    r = client.get(f"{P}/sessions", params={"q": "budget"}, headers=as_alice)
    assert [s["session_id"] for s in r.json()["items"]] == [a]
    r = client.patch(f"{P}/sessions/{a}", json={"is_active": False}, headers=as_alice)
    assert r.status_code == 200 and r.json()["is_active"] is False
    listed = client.get(f"{P}/sessions", headers=as_alice).json()["items"]
    assert a not in [s["session_id"] for s in listed]
    listed = client.get(
        f"{P}/sessions", params={"include_archived": True}, headers=as_alice
    ).json()["items"]
    assert a in [s["session_id"] for s in listed]


def test_bad_cursor_and_limits_are_422(client, as_alice):
    for params in ({"cursor": "garbage!"}, {"cursor": "W10"}, {"limit": 0}, {"limit": 501}):
        r = client.get(f"{P}/sessions", params=params, headers=as_alice)
        assert r.status_code == 422, params
        assert isinstance(r.json()["detail"], str)


def test_rename_and_get_session(client, as_alice):
    sid = _new(client, as_alice)
    r = client.patch(f"{P}/sessions/{sid}", json={"title": "  New   name "}, headers=as_alice)
    assert r.status_code == 200, r.text
    assert r.json()["title"] == "New name"
    assert client.get(f"{P}/sessions/{sid}", headers=as_alice).json()["title"] == "New name"
    for body in ({"title": ""}, {"title": "y" * 256}, {}, {"title": None}):
        r = client.patch(f"{P}/sessions/{sid}", json=body, headers=as_alice)
        assert r.status_code == 422, body


def test_messages_paged_oldest_first(client, svc, as_alice):
    sid = _new(client, as_alice)
    alice = svc.get_user("alice")
    ids = [
        svc.add_message(
            sid, user=alice, role="user" if i % 2 == 0 else "assistant", content=f"m{i}"
        ).id
        for i in range(5)
    ]
    r = client.get(f"{P}/sessions/{sid}/messages", headers=as_alice)
    assert r.status_code == 200
    page = r.json()
    assert [m["id"] for m in page["items"]] == ids and page["next_before_id"] is None
    r = client.get(f"{P}/sessions/{sid}/messages", params={"limit": 2}, headers=as_alice)
    page = r.json()
    assert [m["content"] for m in page["items"]] == ["m3", "m4"]
    assert page["next_before_id"] == ids[3]
    r = client.get(
        f"{P}/sessions/{sid}/messages",
        params={"limit": 2, "before_id": page["next_before_id"]},
        headers=as_alice,
    )
    assert [m["content"] for m in r.json()["items"]] == ["m1", "m2"]
    first = r.json()["items"][0]
    assert first["role"] == "assistant" and first["tools_used"] == []
    r = client.get(f"{P}/sessions/{sid}/messages", params={"limit": 0}, headers=as_alice)
    assert r.status_code == 422


def test_delete_session(client, svc, as_alice):
    sid = _new(client, as_alice)
    svc.add_message(sid, user=svc.get_user("alice"), content="bye")
    r = client.delete(f"{P}/sessions/{sid}", headers=as_alice)
    assert r.status_code == 204 and r.content == b""
    assert client.delete(f"{P}/sessions/{sid}", headers=as_alice).status_code == 404
    assert client.get(f"{P}/sessions/{sid}/messages", headers=as_alice).status_code == 404
    assert svc.count_messages(svc.get_user("alice")) == 0


def test_another_users_session_is_404_like_a_missing_one(client, svc, as_alice, as_bob):
    sid = _new(client, as_alice, "private")
    svc.add_message(sid, user=svc.get_user("alice"), content="secret plans")
    missing = str(uuid.uuid4())
    for target in (sid, missing, "not-a-uuid"):
        calls = [
            client.get(f"{P}/sessions/{target}", headers=as_bob),
            client.get(f"{P}/sessions/{target}/messages", headers=as_bob),
            client.patch(f"{P}/sessions/{target}", json={"title": "mine"}, headers=as_bob),
            client.delete(f"{P}/sessions/{target}", headers=as_bob),
            client.get(f"{P}/sessions/{target}/export.csv", headers=as_bob),
        ]
        for r in calls:
            assert r.status_code == 404, (target, r.request.method, r.request.url)
            assert r.json() == {"detail": "That conversation was not found."}
    assert client.get(f"{P}/sessions", headers=as_bob).json()["items"] == []
    # nothing of alice's changed
    s = svc.get_session(sid, user=svc.get_user("alice"))
    assert s.title == "private" and s.message_count == 1


def test_wrong_or_missing_credentials_are_401(client, creds):
    client.app.state.pa.authenticator.throttle.max_failures = 10_000  # throttling: its own test
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
    api_app.state.pa.authenticator.throttle.window_s = 0  # the window passes
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
