"""GET /search on both backends."""

from __future__ import annotations

P = "/api/v1/personal-assistant"


def test_search_finds_only_own_messages(client, seeded, as_alice, as_bob):
    (a1, _), b1 = seeded
    r = client.get(f"{P}/search", params={"q": "tomato"}, headers=as_alice)
    assert r.status_code == 200, r.text
    hits = r.json()["items"]
    assert hits and {h["session_id"] for h in hits} == {a1}
    assert all("tomato" in h["snippet"].lower() for h in hits)
    r = client.get(f"{P}/search", params={"q": "tomato"}, headers=as_bob)
    assert [h["session_id"] for h in r.json()["items"]] == [b1]
    assert client.get(f"{P}/search", params={"q": ""}, headers=as_alice).status_code == 422
    assert client.get(f"{P}/search", headers=as_alice).status_code == 422
    r = client.get(f"{P}/search", params={"q": "x" * 501}, headers=as_alice)
    assert r.status_code == 422
    for odd in ('"unclosed', "a AND OR NOT", "-", "\x00", "*:(", "NEAR(a b"):
        r = client.get(f"{P}/search", params={"q": odd}, headers=as_alice)
        assert r.status_code == 200, (odd, r.text)
