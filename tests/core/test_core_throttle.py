"""The failed-login throttle in the database (both backends): counted before the password
check, atomically, per account and per address, with a capped backoff, shared by processes."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

import pa_core
from pa_core.auth import LoginThrottle, TooManyFailedLogins
from pa_core.auth.throttle import (
    ADDRESS_FREE_FAILURES,
    FREE_FAILURES,
    MAX_DELAY_S,
    delay_after,
)
from pa_core.db import create_db_engine
from pa_core.models import LoginAttempt
from support.threads import run_together


@pytest.fixture
def throttle():
    """A throttle whose pauses last a minute, so none ends while a test runs."""
    return LoginThrottle(base_delay_s=60.0, max_delay_s=600.0)


def wrong() -> bool:
    return False


def right() -> bool:
    return True


def rows(svc) -> int:
    with svc.transaction(everyone=True) as conn:
        return conn.execute(select(func.count()).select_from(LoginAttempt.__table__)).scalar()


def test_backoff_is_free_then_doubles_up_to_the_cap():
    delays = [delay_after(n, FREE_FAILURES) for n in range(FREE_FAILURES + 8)]
    assert delays[:FREE_FAILURES] == [0.0] * FREE_FAILURES
    assert delays[FREE_FAILURES:] == [1, 2, 4, 8, 16, MAX_DELAY_S, MAX_DELAY_S, MAX_DELAY_S]
    assert MAX_DELAY_S <= 30  # the real user is never locked out for minutes


def test_free_failures_then_a_pause_for_every_spelling(svc, throttle):
    for n in range(FREE_FAILURES):
        name = "Alice" if n % 2 else "alice"
        assert throttle.attempt(svc, name, "192.0.2.1", wrong) is False
    checked = []
    with pytest.raises(TooManyFailedLogins) as caught:
        throttle.attempt(svc, "ALICE", "192.0.2.1", lambda: checked.append(1) or True)
    assert checked == []  # paused: the password is not even checked
    assert 1 <= caught.value.retry_after_s <= 60
    assert "try again in" in str(caught.value)
    assert throttle.failures(svc, "account", "aLiCe") == FREE_FAILURES
    # another account from the same address is not paused
    assert throttle.attempt(svc, "bob", "192.0.2.1", right) is True


def test_a_success_resets_the_account_and_takes_back_its_address_count(svc, throttle):
    for _ in range(3):
        throttle.attempt(svc, "alice", "192.0.2.2", wrong)
    assert throttle.attempt(svc, "alice", "192.0.2.2", right) is True
    assert throttle.failures(svc, "account", "alice") == 0
    assert throttle.failures(svc, "address", "192.0.2.2") == 3


def test_parallel_guesses_are_claimed_one_at_a_time(svc, throttle):
    """40 guesses at once: exactly the free ones are tried, the rest are refused unchecked."""
    tried, refused = [], []

    def guess(n: int) -> None:
        try:
            throttle.attempt(svc, "alice", f"198.51.100.{n}", lambda: tried.append(n) or False)
        except TooManyFailedLogins as exc:
            refused.append(exc.retry_after_s)

    assert run_together(guess, range(40)) == []
    assert len(tried) == FREE_FAILURES and len(refused) == 40 - FREE_FAILURES
    assert all(r >= 1 for r in refused)
    assert throttle.failures(svc, "account", "alice") == FREE_FAILURES


def test_one_address_guessing_many_accounts_is_paused(svc, throttle):
    for n in range(ADDRESS_FREE_FAILURES):
        assert throttle.attempt(svc, f"user{n}", "203.0.113.5", wrong) is False
    with pytest.raises(TooManyFailedLogins):
        throttle.attempt(svc, "a-fresh-name", "203.0.113.5", right)
    assert throttle.attempt(svc, "a-fresh-name", "203.0.113.6", right) is True  # other address


def test_two_processes_share_the_count(db_url, svc, throttle):
    """A second engine and throttle (another replica) sees the first one's failures."""
    engine = create_db_engine(db_url)
    try:
        replica = pa_core.ConversationService(engine)
        other = LoginThrottle(base_delay_s=60.0)
        for n in range(FREE_FAILURES):
            (throttle if n % 2 else other).attempt(svc if n % 2 else replica, "alice", None, wrong)
        with pytest.raises(TooManyFailedLogins):
            other.attempt(replica, "alice", None, right)
        with pytest.raises(TooManyFailedLogins):
            throttle.attempt(svc, "alice", None, right)
    finally:
        engine.dispose()


def test_idle_counters_start_over_and_are_deleted(svc):
    throttle = LoginThrottle(base_delay_s=60.0)
    for _ in range(FREE_FAILURES):
        throttle.attempt(svc, "alice", "192.0.2.9", wrong)
    assert rows(svc) == 2  # one account, one address: keys are digests, not the typed names
    with svc.transaction(everyone=True) as conn:
        keys = conn.execute(select(LoginAttempt.key)).scalars().all()
    assert not any("alice" in k or "192.0.2.9" in k for k in keys)
    throttle.reset_after_s = 0  # every counter is now idle
    assert throttle.attempt(svc, "alice", "192.0.2.9", right) is True
    assert throttle.cleanup(svc) >= 1
    throttle.reset_after_s = 900
    assert throttle.cleanup(svc) == 0


def test_the_counted_address_is_the_peer_unless_forwarding_is_trusted():
    from pa_core.auth.throttle import client_address

    forwarded = ["203.0.113.9, 10.0.0.1", "192.0.2.44"]  # a client may prepend anything
    assert client_address("10.1.1.1", forwarded, trust_forwarded=False) == "10.1.1.1"
    assert client_address("10.1.1.1", forwarded, trust_forwarded=True) == "192.0.2.44"
    assert client_address(None, [], trust_forwarded=True) is None
