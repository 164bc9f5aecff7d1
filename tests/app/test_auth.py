"""pa_core.auth: the one login policy (credentials file, cookies, setup code, user rows)."""

from __future__ import annotations

import os
import stat
import time

import jwt

from pa_core import auth
from pa_core.auth import credentials

KEY = "k" * 40


def test_auth_config_is_parsed_again_only_when_the_file_changes(tmp_path, monkeypatch):
    path = tmp_path / "auth.yaml"
    auth.add_user(path, "carol", "carol-password")
    calls = []
    real = credentials._parse_auth_file
    monkeypatch.setattr(credentials, "_parse_auth_file", lambda p: calls.append(p) or real(p))
    first = auth.load_auth_config(path)
    first["credentials"]["usernames"].clear()  # a caller's change never reaches the cache
    assert list(auth.load_auth_config(path)["credentials"]["usernames"]) == ["carol"]
    assert len(calls) == 1
    auth.add_user(path, "dave", "dave-password")
    os.utime(path, ns=(1, 1))  # a different mtime even on a coarse clock
    calls.clear()
    assert list(auth.load_auth_config(path)["credentials"]["usernames"]) == ["carol", "dave"]
    assert len(calls) == 1
    assert auth.load_auth_config(tmp_path / "missing.yaml")["credentials"]["usernames"] == {}


def test_auth_config_cache_is_shared_by_threads(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    path = tmp_path / "auth.yaml"
    auth.add_user(path, "erin", "erin-password")
    with ThreadPoolExecutor(8) as pool:
        names = list(
            pool.map(
                lambda _: list(auth.load_auth_config(path)["credentials"]["usernames"]), range(64)
            )
        )
    assert names == [["erin"]] * 64


def test_setup_code_is_private_stable_and_checked(tmp_path):
    config = tmp_path / "conf" / "auth.yaml"
    code, created = auth.ensure_setup_code(config)
    assert created and len(code) >= 12
    path = auth.setup_code_path(config)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert auth.ensure_setup_code(config) == (code, False)
    assert auth.check_setup_code(config, f"  {code}\n")
    assert not auth.check_setup_code(config, code[:-1])
    assert not auth.check_setup_code(config, "")
    assert not auth.check_setup_code(config, None)
    auth.remove_setup_code(config)
    assert not auth.check_setup_code(config, code)
    assert auth.ensure_setup_code(config)[0] != code  # a new code after removal


def _config(tmp_path):
    path = tmp_path / "auth.yaml"
    auth.add_user(path, "Alice", "alice-password")
    return path, auth.load_auth_config(path)


def test_login_token_carries_its_real_issue_time_and_a_logout_refuses_older_ones(tmp_path):
    path, config = _config(tmp_path)
    now = time.time()
    token = auth.issue_login_token("alice", cookie_key=KEY, expiry_days=30, now=now - 10)
    claims = jwt.decode(token, KEY, algorithms=["HS256"])
    assert claims["iat"] == now - 10 and claims["exp_date"] == now - 10 + 30 * 86_400
    check = dict(config=config, cookie_key=KEY, config_path=path)
    assert auth.user_from_token(token, **check) == "Alice"  # the config's spelling
    auth.record_logout(path, "ALICE", when=now - 5)
    assert auth.user_from_token(token, **check) is None  # issued before the logout
    newer = auth.issue_login_token("alice", cookie_key=KEY, expiry_days=30, now=now - 1)
    assert auth.user_from_token(newer, **check) == "Alice"
    # The expiry no longer tells the issue time: a long-lived cookie issued later still counts.
    longer = auth.issue_login_token("alice", cookie_key=KEY, expiry_days=365, now=now)
    assert auth.user_from_token(longer, **check) == "Alice"


def test_forged_expired_foreign_or_unknown_tokens_are_refused(tmp_path):
    path, config = _config(tmp_path)
    check = dict(config=config, cookie_key=KEY, config_path=path)
    future = time.time() + 86_400
    cases = [
        jwt.encode({"username": "alice", "exp_date": future, "iat": 1.0}, "x" * 40, "HS256"),
        jwt.encode({"username": "alice", "exp_date": 1.0, "iat": 0.5}, KEY, "HS256"),
        jwt.encode({"username": "alice", "exp_date": future}, KEY, "HS256"),  # no issue time
        jwt.encode({"username": "eve", "exp_date": future, "iat": 1.0}, KEY, "HS256"),
        "not-a-jwt",
        "",
        None,
    ]
    for token in cases:
        assert auth.user_from_token(token, **check) is None, token


def test_sync_user_creates_and_updates_one_row_whatever_the_case(svc, tmp_path):
    path, config = _config(tmp_path)
    first = auth.sync_user(svc, config, "alice")
    assert first.username == "Alice" and first.role == "user"
    config["credentials"]["usernames"]["Alice"]["roles"] = ["admin"]
    again = auth.sync_user(svc, config, "ALICE")
    assert again.id == first.id and again.role == "admin"
    try:
        auth.sync_user(svc, config, "mallory")
    except auth.UnknownUser:
        pass
    else:
        raise AssertionError("an unknown user got a row")
    assert svc.get_user("mallory") is None
