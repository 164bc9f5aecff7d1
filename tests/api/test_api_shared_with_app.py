"""The API and the Streamlit app share one database: what one starts, the other shows."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

P = "/api/v1/personal-assistant"
APP = Path(__file__).resolve().parents[2] / "app.py"


@pytest.fixture
def app_env(db_url, auth_file, monkeypatch):
    """Environment for app.py over the same database and auth YAML as the API client."""
    monkeypatch.setenv("PA_DATABASE_URL", db_url)
    monkeypatch.setenv("PA_AUTH_CONFIG", str(auth_file))
    monkeypatch.setenv("PA_COOKIE_KEY", "api-shared-test-cookie-key-" + "y" * 32)


def _page(page: str, username: str) -> AppTest:
    """A logged-in AppTest (session-state injection) switched to pages/<page>.py."""
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.session_state["authentication_status"] = True
    at.session_state["username"] = username
    at.run()
    at.switch_page(f"pages/{page}.py")
    return at.run()


def _all_text(at: AppTest) -> str:
    return "\n".join(
        str(e.value) for kind in ("markdown", "caption", "info") for e in getattr(at, kind)
    )


def _assert_ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def test_api_conversation_appears_on_the_sessions_page(app_env, client, svc, as_alice):
    r = client.post(f"{P}/sessions/new", json={"title": "Started over HTTP"}, headers=as_alice)
    sid = r.json()["session_id"]
    r = client.post(
        f"{P}/chat", json={"message": "What is 12 * 7?", "session_id": sid}, headers=as_alice
    )
    assert r.status_code == 200 and "84" in r.json()["content"]
    # the service sees it in alice's list
    alice = svc.get_user("alice")
    listed = svc.get_user_sessions(alice)
    assert listed[0].session_id == sid and listed[0].message_count == 2
    # and the Streamlit Sessions page shows it to alice, not to bob
    at = _page("sessions", "alice")
    _assert_ok(at)
    assert "Started over HTTP" in _all_text(at)
    assert "2 message(s)" in _all_text(at)
    at_bob = _page("sessions", "bob")
    _assert_ok(at_bob)
    assert "Started over HTTP" not in _all_text(at_bob)


def test_app_conversation_appears_in_the_api(app_env, client, svc, as_alice, as_bob):
    at = _page("chat", "alice")
    _assert_ok(at)
    at.chat_input[0].set_value("What is 6 * 7?").run()
    _assert_ok(at)
    sid = at.query_params["session_id"]
    sid = sid[0] if isinstance(sid, list) else sid
    # the service and the API both see the conversation the app stored
    assert [m.role for m in svc.get_messages(sid, user=svc.get_user("alice"))] == [
        "user",
        "assistant",
    ]
    items = client.get(f"{P}/sessions", headers=as_alice).json()["items"]
    assert sid in [s["session_id"] for s in items]
    msgs = client.get(f"{P}/sessions/{sid}/messages", headers=as_alice).json()["items"]
    assert msgs[0]["content"] == "What is 6 * 7?" and "42" in msgs[1]["content"]
    # the API can continue it, and bob cannot see it
    r = client.post(f"{P}/chat", json={"message": "thanks", "session_id": sid}, headers=as_alice)
    assert r.status_code == 200 and r.json()["session_id"] == sid
    assert client.get(f"{P}/sessions/{sid}/messages", headers=as_bob).status_code == 404
