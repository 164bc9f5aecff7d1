"""GET /metrics on both backends."""

from __future__ import annotations

P = "/api/v1/personal-assistant"


def test_metrics_own_for_users_everyone_for_admins(client, seeded, as_alice, as_root):
    r = client.get(f"{P}/metrics", headers=as_alice)
    assert r.status_code == 200, r.text
    m = r.json()
    assert m["scope"] == "mine" and m["messages"] == 3 and m["sessions"] == 2
    assert m["per_user"] is None
    assert client.get(f"{P}/metrics", params={"scope": "all"}, headers=as_alice).status_code == 403
    r = client.get(f"{P}/metrics", headers=as_root)
    m = r.json()
    assert m["scope"] == "all" and m["messages"] == 4
    assert {u["username"]: u["messages"] for u in m["per_user"]} == {"alice": 3, "bob": 1}
    r = client.get(f"{P}/metrics", params={"scope": "mine"}, headers=as_root)
    assert r.json()["messages"] == 0
    r = client.get(f"{P}/metrics", params={"since": "2099-01-01T00:00:00Z"}, headers=as_alice)
    assert r.status_code == 200 and r.json()["messages"] == 0
    r = client.get(f"{P}/metrics", params={"since": "0001-01-01T00:00:00+05:00"}, headers=as_alice)
    assert r.status_code == 422
    r = client.get(f"{P}/metrics", params={"since": "yesterday"}, headers=as_alice)
    assert r.status_code == 422
