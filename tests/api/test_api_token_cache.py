"""API token look-ups cached for PA_API_TOKEN_CACHE_S: what they save (transactions per request,
counted) and how far a revocation or a disabled owner can lag (the documented bound)."""

from __future__ import annotations

from contextlib import contextmanager

from fastapi.testclient import TestClient
from sqlalchemy import event, update

from pa_core.api import PREFIX, create_app
from pa_core.config import Settings
from pa_core.models import utcnow
from pa_core.service.tables import TOKENS, USERS

P = PREFIX


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@contextmanager
def count_transactions(engine):
    """Collect one entry per transaction `engine` begins inside the block."""
    begun: list[int] = []

    def on_begin(conn):
        begun.append(1)

    event.listen(engine, "begin", on_begin)
    try:
        yield begun
    finally:
        event.remove(engine, "begin", on_begin)


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self):
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _app(svc, auth_file, ttl: float):
    """An app over `svc` whose token cache trusts a look-up for `ttl` seconds of a fake clock."""
    app = create_app(svc, Settings(PA_API_TOKEN_CACHE_S=ttl), auth_config=auth_file)
    clock = FakeClock()
    app.state.pa.authenticator.tokens.clock = clock
    return app, clock


def _revoke_elsewhere(svc, token_id: int) -> None:
    """Revoke as another process would: in the database, unseen by this process's cache."""
    with svc.engine.begin() as conn:
        conn.execute(update(TOKENS).where(TOKENS.c.id == token_id).values(revoked_at=utcnow()))


def test_a_cached_token_costs_no_look_up(svc, auth_file):
    alice = svc.ensure_user("alice")
    token, _ = svc.issue_token(alice)
    with TestClient(_app(svc, auth_file, ttl=5)[0]) as c:  # syncs the profile, records the use
        assert c.get(f"{P}/sessions", headers=_bearer(token)).status_code == 200
    with TestClient(_app(svc, auth_file, ttl=5)[0]) as c:
        with count_transactions(svc.engine) as first:
            assert c.get(f"{P}/sessions", headers=_bearer(token)).status_code == 200
        with count_transactions(svc.engine) as cached:
            assert c.get(f"{P}/sessions", headers=_bearer(token)).status_code == 200
    assert len(first) == len(cached) + 1  # the look-up


def test_a_chat_turn_opens_the_transactions_of_its_service_calls_only(svc, auth_file):
    """Warm: the route's ownership check and the two stored messages, nothing else."""
    alice = svc.ensure_user("alice")
    token, _ = svc.issue_token(alice)
    app, _clock = _app(svc, auth_file, ttl=5)
    with TestClient(app) as c:
        sid = c.post(f"{P}/chat", json={"message": "What is 2 + 2?"}, headers=_bearer(token))
        sid = sid.json()["session_id"]
        body = {"message": "What is 3 * 3?", "session_id": sid}
        assert c.post(f"{P}/chat", json=body, headers=_bearer(token)).status_code == 200
        with count_transactions(svc.engine) as turn:
            r = c.post(f"{P}/chat", json=body, headers=_bearer(token))
    assert r.status_code == 200 and r.json()["saved"] and "9" in r.json()["content"]
    assert len(turn) == 3
    assert [m.role for m in svc.get_messages(sid, user=alice)] == ["user", "assistant"] * 3


def test_a_token_revoked_elsewhere_stops_within_the_bound(svc, auth_file):
    alice = svc.ensure_user("alice")
    token, record = svc.issue_token(alice)
    app, clock = _app(svc, auth_file, ttl=5)
    with TestClient(app) as c:
        assert c.get(f"{P}/sessions", headers=_bearer(token)).status_code == 200
        _revoke_elsewhere(svc, record.id)
        clock.t += 4.9  # still within the bound: the cached look-up is trusted
        assert c.get(f"{P}/sessions", headers=_bearer(token)).status_code == 200
        clock.t += 0.2  # past it: looked up again, refused
        assert c.get(f"{P}/sessions", headers=_bearer(token)).status_code == 401
        clock.t += 60  # and never cached as valid again
        assert c.get(f"{P}/sessions", headers=_bearer(token)).status_code == 401


def test_without_the_cache_a_revocation_elsewhere_counts_at_once(svc, auth_file):
    alice = svc.ensure_user("alice")
    token, record = svc.issue_token(alice)
    app, _clock = _app(svc, auth_file, ttl=0)
    with TestClient(app) as c:
        assert c.get(f"{P}/sessions", headers=_bearer(token)).status_code == 200
        _revoke_elsewhere(svc, record.id)
        assert c.get(f"{P}/sessions", headers=_bearer(token)).status_code == 401


def test_revoking_or_disabling_in_this_process_counts_at_once(svc, auth_file):
    root = svc.ensure_user("root", role="admin")
    alice = svc.ensure_user("alice")
    token, record = svc.issue_token(alice)
    other, _ = svc.issue_token(alice, name="second")
    app, _clock = _app(svc, auth_file, ttl=60)
    with TestClient(app) as c:
        for t in (token, other):
            assert c.get(f"{P}/sessions", headers=_bearer(t)).status_code == 200
        assert svc.revoke_token(alice, record.id)
        assert c.get(f"{P}/sessions", headers=_bearer(token)).status_code == 401
        svc.admin_set_disabled(root, "alice", True)
        assert c.get(f"{P}/sessions", headers=_bearer(other)).status_code == 403
        svc.admin_set_disabled(root, "alice", False)
        assert c.get(f"{P}/sessions", headers=_bearer(other)).status_code == 200


def test_an_owner_disabled_elsewhere_is_refused_within_the_bound(svc, auth_file):
    alice = svc.ensure_user("alice")
    token, _ = svc.issue_token(alice)
    app, clock = _app(svc, auth_file, ttl=5)
    with TestClient(app) as c:
        assert c.get(f"{P}/sessions", headers=_bearer(token)).status_code == 200
        with svc.engine.begin() as conn:
            conn.execute(update(USERS).where(USERS.c.id == alice.id).values(disabled_at=utcnow()))
        clock.t += 5.1
        assert c.get(f"{P}/sessions", headers=_bearer(token)).status_code == 403


def test_a_login_removed_from_the_yaml_stops_at_once_even_when_cached(
    tmp_path, svc, make_auth_file
):
    path = make_auth_file(tmp_path / "auth.yaml", {"carol": "carol-secret-1"})
    carol = svc.ensure_user("carol")
    token, _ = svc.issue_token(carol)
    app = create_app(svc, Settings(PA_API_TOKEN_CACHE_S=60), auth_config=path)
    with TestClient(app) as c:
        assert c.get(f"{P}/sessions", headers=_bearer(token)).status_code == 200
        make_auth_file(path, {"dave": "dave-secret-1"})
        assert c.get(f"{P}/sessions", headers=_bearer(token)).status_code == 401
