"""The login throttle through real uvicorn processes (both backends): parallel guesses are
claimed one by one, the right password works once the short pause ends, two API processes
(replicas) share the count, and one client address is limited across accounts."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from pa_core.auth.throttle import ADDRESS_FREE_FAILURES, FREE_FAILURES, MAX_DELAY_S
from support.api_server import serve_api

P = "/api/v1/personal-assistant"
ALICE = ("alice", "alice-secret-1")


@pytest.fixture
def start_api(db_url, auth_file, tmp_path):
    """`start_api()` serves another API process on the test database (stopped afterwards)."""
    import contextlib

    stack = contextlib.ExitStack()
    env = {"PA_AUTH_CONFIG": str(auth_file), "PA_LLM_PROVIDER": "offline"}

    def start() -> str:
        log = tmp_path / f"uvicorn-{len(stack._exit_callbacks)}.log"
        return stack.enter_context(serve_api(db_url, log, **env))

    with stack:
        yield start


def sessions(base: str, auth: tuple[str, str], **headers: str) -> httpx.Response:
    return httpx.get(f"{base}{P}/sessions", auth=auth, headers=headers, timeout=60)


def test_forty_parallel_guesses_then_the_right_password(start_api):
    base = start_api()
    with ThreadPoolExecutor(max_workers=40) as pool:
        answers = list(pool.map(lambda n: sessions(base, ("alice", f"guess-{n}")), range(40)))
    codes = [r.status_code for r in answers]
    tried, paused = codes.count(401), [r for r in answers if r.status_code == 429]
    print(f"\n40 parallel wrong guesses: {tried} tried (401), {len(paused)} refused (429)")
    assert set(codes) <= {401, 429}
    assert tried <= FREE_FAILURES + 3  # the free ones, plus any whose 1-2 s pause ended meanwhile
    assert len(paused) >= 40 - FREE_FAILURES - 3
    waits = [int(r.headers["Retry-After"]) for r in paused]
    assert all(1 <= w <= MAX_DELAY_S for w in waits)
    assert all("Too many failed logins" in r.json()["detail"] for r in paused)
    # the real user: waits what Retry-After says (at most a few seconds here), then gets in
    started, refusals = time.monotonic(), 0
    while (r := sessions(base, ALICE)).status_code == 429:
        refusals += 1
        assert refusals < 10, "the right password never got through"
        time.sleep(int(r.headers["Retry-After"]))
    assert r.status_code == 200
    print(f"right password accepted after {time.monotonic() - started:.1f} s, {refusals} 429(s)")


def test_two_api_processes_share_the_count(start_api):
    first, second = start_api(), start_api()
    for n in range(FREE_FAILURES):
        assert sessions(first if n % 2 else second, ("alice", f"g{n}")).status_code == 401
    for base in (first, second):
        r = sessions(base, ("alice", "one more"))
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert sessions(second, ("bob", "bob-secret-22")).status_code == 200  # others unaffected


def test_one_address_is_limited_across_accounts(start_api):
    """uvicorn takes X-Forwarded-For from its trusted proxy (127.0.0.1 by default)."""
    base = start_api()
    guesser = {"X-Forwarded-For": "203.0.113.5"}
    for n in range(ADDRESS_FREE_FAILURES):
        assert sessions(base, (f"user{n}", "guess"), **guesser).status_code == 401
    r = sessions(base, ("bob", "bob-secret-22"), **guesser)
    assert r.status_code == 429  # even a right password, from that address, waits
    assert (
        sessions(base, ("bob", "bob-secret-22"), **{"X-Forwarded-For": "203.0.113.6"}).status_code
        == 200
    )
