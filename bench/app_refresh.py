"""What a refresh of the Chat page costs for a 10- vs a 10,000-message session.

Two measurements, both against real databases:
  1. AppTest: one full script run of app.py + pages/chat.py (what the server does on a refresh),
     median of N runs, on SQLite and PostgreSQL.
  2. Browser: Chromium reloads the chat URL of a real `streamlit run app.py` (PostgreSQL) and
     waits until the newest message is on screen and the script run finished; median of N.

    python3 bench/app_refresh.py [--runs 15] [--no-browser]
(PostgreSQL as for `python -m bench`: BENCH_DATABASE_URL or TEST_DATABASE_URL, else the local
server, else a throwaway cluster.)
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "browser")]

import jwt  # noqa: E402

import pa_core  # noqa: E402
from bench.run import postgres_server, throwaway_database  # noqa: E402
from bench.seed import SIZES as BENCH_SIZES  # noqa: E402
from bench.ui import USERNAME, _app_environment, _chat_app  # noqa: E402
from pa_core import auth  # noqa: E402

SIZES = (10, 50, 10_000)  # 50 = one page of history, what the 10,000 case shows too
DATABASE = dataclasses.replace(BENCH_SIZES["quick"], name="refresh")  # names the throwaway DB


def seed(svc: pa_core.ConversationService, user, n: int) -> str:
    """A session of `n` alternating messages (~360 bytes each); returns its id."""
    s = svc.create_session(user=user, title=f"{n} messages")
    body = ("lorem ipsum dolor sit amet " * 14)[:360]
    for i in range(n):
        role = "user" if i % 2 == 0 else "assistant"
        svc.add_message(s.session_id, user=user, role=role, content=f"{i} {body}")
    return s.session_id


def apptest_ms(sid: str, runs: int) -> float:
    """Median wall time of one logged-in AppTest run of the chat page for `sid`."""
    at = _chat_app(sid)  # warm: migrate check, engine, user row
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        at.run()
        times.append((time.perf_counter() - t0) * 1000)
    assert not at.exception, at.exception
    assert at.query_params.get("session_id") == sid
    return statistics.median(times)


def browser_ms(url: str, auth_path: Path, sids: dict[int, str], runs: int) -> dict[int, float]:
    """Median reload-to-history time in Chromium for each session (logged in by cookie)."""
    from browser_helpers import CHROMIUM, CHROMIUM_ARGS, COOKIE_KEY, StreamlitServer, app_env
    from playwright.sync_api import expect, sync_playwright

    log = Path(tempfile.mkdtemp()) / "streamlit.log"
    server = StreamlitServer(app_env(url, auth_path), log).start()
    out = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            token = jwt.encode(
                {"username": USERNAME, "exp_date": time.time() + 3600}, COOKIE_KEY, "HS256"
            )
            context.add_cookies([{"name": auth.COOKIE_NAME, "value": token, "url": server.url}])
            page = context.new_page()
            page.goto(server.url + "/")
            expect(page.get_by_placeholder("Message the assistant")).to_be_visible(timeout=30_000)
            app = page.get_by_test_id("stApp")
            for n, sid in sids.items():
                page.goto(f"{server.url}/?session_id={sid}")
                last = page.get_by_test_id("stChatMessage").filter(has_text=f"{n - 1} lorem")
                expect(last).to_be_visible(timeout=60_000)
                times = []
                for _ in range(runs):
                    t0 = time.perf_counter()
                    page.reload()
                    expect(last).to_be_visible(timeout=60_000)
                    expect(app).to_have_attribute("data-test-script-state", "notRunning")
                    times.append((time.perf_counter() - t0) * 1000)
                out[n] = statistics.median(times)
            browser.close()
    finally:
        server.stop()
    return out


def main() -> int:
    """Seed, measure, print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()

    rows = []
    with postgres_server() as admin:
        for backend in ("sqlite", "postgresql"):
            with throwaway_database(backend, DATABASE, admin) as url:
                svc = pa_core.ConversationService.from_url(url)
                user = svc.ensure_user(USERNAME)
                sids = {n: seed(svc, user, n) for n in SIZES}
                with _app_environment(url):  # PA_* variables and the auth YAML for app.py
                    for n, sid in sids.items():
                        rows.append((backend, "AppTest run", n, apptest_ms(sid, args.runs)))
                    if backend == "postgresql" and not args.no_browser:
                        auth_path = Path(os.environ["PA_AUTH_CONFIG"])
                        runs = max(3, args.runs // 3)
                        for n, ms in browser_ms(url, auth_path, sids, runs).items():
                            rows.append((backend, "browser reload", n, ms))
    print(f"{'backend':<11} {'measure':<15} {'messages':>9} {'median ms':>10}")
    for backend, what, n, ms in rows:
        print(f"{backend:<11} {what:<15} {n:>9,} {ms:>10.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
