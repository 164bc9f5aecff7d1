"""Fixtures of the API tests: an auth YAML with three users, a TestClient per backend, seed data
and a fake OpenAI-compatible server."""

from __future__ import annotations

import base64

import bcrypt
import pytest
import yaml
from fastapi.testclient import TestClient

from pa_core.api import PREFIX, create_app
from support.llm_fake import FakeLLM

PASSWORDS = {"alice": "alice-secret-1", "bob": "bob-secret-22", "root": "root-secret-333"}


def _hash(password: str) -> str:
    # cost 4 keeps the tests fast; verify_password accepts any bcrypt cost
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()


def write_auth_yaml(path, passwords: dict[str, str], admins=("root",)) -> None:
    """A streamlit-authenticator YAML with the given users."""
    users = {
        name: {
            "email": f"{name}@example.com",
            "first_name": name.title(),
            "last_name": "Tester",
            "password": _hash(pw),
            "roles": ["admin"] if name in admins else ["user"],
        }
        for name, pw in passwords.items()
    }
    config = {
        "credentials": {"usernames": users},
        "cookie": {"name": "pa_auth", "key": "k" * 40, "expiry_days": 30},
    }
    path.write_text(yaml.safe_dump(config), encoding="utf-8")


@pytest.fixture(scope="session")
def auth_file(tmp_path_factory):
    """Path of an auth YAML with alice, bob (users) and root (admin)."""
    path = tmp_path_factory.mktemp("auth") / "auth.yaml"
    write_auth_yaml(path, PASSWORDS)
    return path


@pytest.fixture(autouse=True)
def _offline_llm(monkeypatch):
    """The assistant uses the offline provider; no test reaches a network model."""
    monkeypatch.setenv("PA_LLM_PROVIDER", "offline")
    for name in ("PA_LLM_BASE_URL", "PA_LLM_API_KEY", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def api_app(svc, auth_file):
    """The API app over the test database's service."""
    return create_app(svc, auth_config=auth_file)


@pytest.fixture
def client(api_app):
    """A TestClient of the app (no credentials set)."""
    with TestClient(api_app) as c:
        yield c


def basic(user: str, password: str | None = None) -> dict[str, str]:
    """An Authorization header for `user` (their right password unless one is given)."""
    pw = PASSWORDS[user] if password is None else password
    token = base64.b64encode(f"{user}:{pw}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.fixture
def make_auth_file():
    """`make(path, {user: password}, admins=())` writes an auth YAML and returns the path."""

    def make(path, passwords, admins=()):
        write_auth_yaml(path, passwords, admins)
        return path

    return make


@pytest.fixture
def creds():
    """The `basic(user, password=None)` header builder."""
    return basic


@pytest.fixture
def as_alice():
    return basic("alice")


@pytest.fixture
def as_bob():
    return basic("bob")


@pytest.fixture
def as_root():
    return basic("root")


@pytest.fixture
def new_session(client):
    """`new_session(headers, title=None)` creates a session over the API and returns its id."""

    def new(headers, title=None):
        body = {"title": title} if title is not None else None
        r = client.post(f"{PREFIX}/sessions/new", json=body, headers=headers)
        assert r.status_code == 200, r.text
        return r.json()["session_id"]

    return new


@pytest.fixture
def seeded(svc):
    """alice has two sessions with messages, bob one; returns (alice_sids, bob_sid)."""
    alice = svc.ensure_user("alice")
    bob = svc.ensure_user("bob")
    a1 = svc.create_session(user=alice, title="Garden").session_id
    a2 = svc.create_session(user=alice, title="=cmd|' /C calc'!A0").session_id
    svc.add_message(a1, user=alice, content="How deep should tomato seedlings be planted?")
    svc.add_message(
        a1, user=alice, role="assistant", content="Plant tomatoes deep.", tools_used=["x"]
    )
    svc.add_message(a2, user=alice, content="=SUM(A1:A9) is a formula")
    b1 = svc.create_session(user=bob, title="Bob's").session_id
    svc.add_message(b1, user=bob, content="tomato soup recipe", has_error=False)
    return [a1, a2], b1


@pytest.fixture
def llm():
    """A running FakeLLM (OpenAI-compatible, on 127.0.0.1), stopped afterwards."""
    server = FakeLLM().start()
    yield server
    server.stop()
