"""Chaos: 20 users chatting through two real API processes while a private PostgreSQL is stopped
and started three times and one API process is SIGKILLed (clients fail over to the other).

Every message carries an Idempotency-Key and is retried with the same key until the API
acknowledges it (200, saved). Asserted: every acknowledged message is stored exactly once, in
order, with its reply, per session; every message typed during the outages reaches the database;
a restart with no traffic during it costs no failed request afterwards. Run with `-s` for the
figures (typed vs stored, recovery times).
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from dataclasses import dataclass, field

import httpx
import pytest

import pa_core
from pa_core.db import create_db_engine
from support.api_server import api_process
from support.pg_cluster import ThrowawayCluster

P = "/api/v1/personal-assistant"
USERS = {f"chaos{n:02d}": f"chaos{n:02d}-password" for n in range(20)}
OUTAGES = 3
DOWN_S = 2.0  # how long each stop lasts
UP_S = 2.5  # traffic between stops
GUARD_S = 90  # no client may take longer than this to get a message through (a hang guard)


@dataclass
class Client:
    """One user: their session, what they typed, what the API acknowledged, and when."""

    name: str
    bases: list[str]
    session_id: str = ""
    typed: list[str] = field(default_factory=list)
    acked: list[str] = field(default_factory=list)
    ack_times: list[float] = field(default_factory=list)
    failed_attempts: int = 0
    failovers: int = 0
    retried: list[str] = field(default_factory=list)  # typed, then refused at least once
    kept_locally: int = 0  # answers "saved: false" (spooled), retried like a failure

    def auth(self) -> tuple[str, str]:
        return self.name, USERS[self.name]

    def _refused(self, text: str) -> None:
        self.failed_attempts += 1
        if not self.retried or self.retried[-1] != text:
            self.retried.append(text)

    def send(self, http: httpx.Client, text: str, key: str) -> None:
        """POST /chat with `key` until acknowledged, failing over between the API processes."""
        self.typed.append(text)
        deadline = time.monotonic() + GUARD_S
        body = {"message": text, "session_id": self.session_id}
        while True:
            assert time.monotonic() < deadline, f"{self.name}: {text!r} never got through"
            try:
                r = http.post(
                    self.bases[0] + f"{P}/chat",
                    json=body,
                    headers={"Idempotency-Key": key},
                    auth=self.auth(),
                )
            except httpx.TransportError:  # the process is gone: use the other one
                self._refused(text)
                self.failovers += 1
                self.bases.reverse()
                time.sleep(0.1)
                continue
            if r.status_code == 200 and r.json()["saved"]:
                self.acked.append(text)
                self.ack_times.append(time.monotonic())
                return
            self.kept_locally += r.status_code == 200
            self._refused(text)
            time.sleep(float(r.headers.get("Retry-After", "0.2")) if r.status_code == 429 else 0.2)


@pytest.fixture
def chaos_db(tmp_path):
    """A private throwaway cluster (it is stopped and started) with a migrated database."""
    cluster = ThrowawayCluster()
    if not cluster.available:
        pytest.skip("no initdb/pg_ctl on this machine")
    url = cluster.start()
    pa_core.migrate(url)
    yield cluster, url
    cluster.stop()


def outage(cluster: ThrowawayCluster, during=None) -> float:
    """Stop PostgreSQL for DOWN_S (running `during` while it is down); when it was back."""
    cluster.pause()
    if during is not None:
        during()
    time.sleep(DOWN_S)
    cluster.resume()
    return time.monotonic()


def test_chaos_twenty_users_three_database_stops_and_a_killed_api(
    chaos_db, make_auth_file, tmp_path
):
    cluster, url = chaos_db
    auth = make_auth_file(tmp_path / "auth.yaml", USERS)
    env = {
        "PA_AUTH_CONFIG": str(auth),
        "PA_LLM_PROVIDER": "offline",
        "PA_SPOOL_DIR": str(tmp_path / "spool"),  # shared: the survivor replays the dead one's
    }
    with contextlib.ExitStack() as stack:
        (victim, first), (_, second) = (
            stack.enter_context(api_process(url, tmp_path / f"api-{n}.log", **env))
            for n in range(2)
        )
        clients = [
            Client(name, [first, second] if n % 2 == 0 else [second, first])
            for n, name in enumerate(USERS)
        ]
        http = stack.enter_context(httpx.Client(timeout=30))
        for c in clients:
            r = http.post(c.bases[0] + f"{P}/sessions/new", json={"title": "chaos"}, auth=c.auth())
            assert r.status_code == 200, r.text
            c.session_id = r.json()["session_id"]

        # -- phase 1: traffic through three stops of the database and a SIGKILL ---------------
        stop = threading.Event()
        errors: list[BaseException] = []

        def chat(c: Client) -> None:
            try:
                with httpx.Client(timeout=30) as own:
                    n = 0
                    while not stop.is_set():
                        c.send(own, f"{c.name} message {n}", f"{c.name}-{n}")
                        n += 1
            except BaseException as exc:  # noqa: BLE001 - reported by the main thread
                errors.append(exc)

        threads = [threading.Thread(target=chat, args=(c,)) for c in clients]
        for t in threads:
            t.start()
        back_at = []
        started = time.monotonic()
        for n in range(OUTAGES):
            time.sleep(UP_S)
            kill = (lambda: victim.send_signal(signal.SIGKILL)) if n == 1 else None
            back_at.append(outage(cluster, kill))
        time.sleep(UP_S)
        stop.set()
        for t in threads:
            t.join(timeout=GUARD_S + 10)
        assert not errors, errors
        assert not any(t.is_alive() for t in threads)
        chaos_s = time.monotonic() - started
        assert victim.wait(timeout=10) == -signal.SIGKILL

        # -- phase 2: a restart with no traffic during it costs no failed request -------------
        for c in clients:
            c.bases = [second]
        cluster.pause()
        cluster.resume()
        quiet_failures = 0
        for c in clients:
            before = c.failed_attempts
            for n in range(2):
                c.send(http, f"{c.name} after the quiet restart {n}", f"{c.name}-quiet-{n}")
            quiet_failures += c.failed_attempts - before

    # -- what the database holds ----------------------------------------------------------------
    engine = create_db_engine(url)
    try:
        svc = pa_core.ConversationService(engine)
        stored_user_messages = 0
        for c in clients:
            user = svc.get_user(c.name)
            messages = svc.get_messages(c.session_id, user=user)
            said = [m.content for m in messages if m.role == "user"]
            assert said == c.acked == c.typed, c.name  # each once, in order, none lost
            assert [m.role for m in messages] == ["user", "assistant"] * len(said), c.name
            assert all(m.client_id for m in messages)
            stored_user_messages += len(said)
            assert set(c.retried) <= set(said)  # every message retried after recovery is there
    finally:
        engine.dispose()

    typed = sum(len(c.typed) for c in clients)
    recoveries = [
        min(t for c in clients for t in c.ack_times if t > back) - back for back in back_at
    ]
    all_back = [
        max(min((t for t in c.ack_times if t > back), default=float("inf")) for c in clients) - back
        for back in back_at
    ]
    print(
        f"\nchaos: {len(clients)} users, {chaos_s:.1f} s, {OUTAGES} stops of {DOWN_S:.0f} s, "
        f"one API process SIGKILLed during stop 2"
        f"\n  typed {typed}, acknowledged {sum(len(c.acked) for c in clients)}, "
        f"stored {stored_user_messages} (each once, in order, with its reply)"
        f"\n  messages that needed retries: {sum(len(c.retried) for c in clients)} (all stored); "
        f"failed attempts: {sum(c.failed_attempts for c in clients)}, of which "
        f"{sum(c.kept_locally for c in clients)} 'kept locally' answers; "
        f"failovers: {sum(c.failovers for c in clients)}"
        f"\n  first ack after each restart: {', '.join(f'{r:.2f} s' for r in recoveries)}"
        f"\n  every user acked after each restart: {', '.join(f'{r:.2f} s' for r in all_back)}"
        f"\n  quiet restart: {quiet_failures} failed requests in {2 * len(clients)} afterwards"
    )
    assert typed == stored_user_messages
    assert quiet_failures == 0
