"""What a refresh of the Chat page costs for a 10- vs a 10,000-message session.

Two measurements, both against real databases:
  1. AppTest: one full script run of app.py + pages/chat.py (what the server does on a refresh),
     median of N runs, on SQLite and PostgreSQL.
  2. Browser: Chromium reloads the chat URL of a real `streamlit run app.py` (PostgreSQL) and
     waits until the newest message is on screen and the script run finished; median of N.

    python3 bench/app_refresh.py [--runs 15] [--no-browser]
(TEST_DATABASE_URL or PA_BENCH_PG_URL names the PostgreSQL server; default 127.0.0.1:5432.)
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "browser")]

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

import pa_core  # noqa: E402
from pa_core import auth  # noqa: E402

SIZES = (10, 50, 10_000)  # 50 = one page of history, what the 10,000 case shows too
PASSWORD = "bench-password"


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
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.testing.v1 import AppTest

    original = PagesManager.__init__

    def init(self, *args, **kwargs):  # as the server: every run goes through app.py
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    PagesManager.__init__ = init
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.session_state["authentication_status"] = True
        at.session_state["username"] = "bench"
        at.query_params["session_id"] = sid
        at.run()  # warm: migrate check, engine, user row
        assert not at.exception, at.exception
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            at.run()
            times.append((time.perf_counter() - t0) * 1000)
        assert at.query_params.get("session_id") == sid
        return statistics.median(times)
    finally:
        PagesManager.__init__ = original


def browser_ms(url: str, auth_path: Path, sids: dict[int, str], runs: int) -> dict[int, float]:
    """Median reload-to-history time in Chromium for each session."""
    from browser_helpers import CHROMIUM, CHROMIUM_ARGS, StreamlitServer, app_env
    from playwright.sync_api import expect, sync_playwright

    log = Path(tempfile.mkdtemp()) / "streamlit.log"
    server = StreamlitServer(app_env(url, auth_path), log).start()
    out = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(server.url + "/")
            page.get_by_role("textbox", name="Username", exact=True).fill("bench", timeout=30_000)
            page.get_by_role("textbox", name="Password", exact=True).fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
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

    tmp = Path(tempfile.mkdtemp(prefix="pa-refresh-"))
    auth_path = tmp / "auth.yaml"
    auth.add_user(auth_path, "bench", PASSWORD)
    os.environ.update(
        PA_AUTH_CONFIG=str(auth_path), PA_COOKIE_KEY="bench-cookie-key-" + "z" * 32,
        PA_LLM_PROVIDER="offline",
    )  # fmt: skip
    admin = os.environ.get("PA_BENCH_PG_URL") or os.environ.get(
        "TEST_DATABASE_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
    )
    admin = pa_core.config.normalize_url(admin)
    pg_name = f"pa_refresh_{uuid.uuid4().hex[:8]}"
    urls = {
        "sqlite": f"sqlite:///{tmp / 'refresh.db'}",
        "postgresql": make_url(admin).set(database=pg_name).render_as_string(hide_password=False),
    }
    eng = create_engine(admin, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{pg_name}"'))
    try:
        rows = []
        for backend, url in urls.items():
            pa_core.migrate(url)
            svc = pa_core.ConversationService.from_url(url)
            user = svc.ensure_user("bench")
            sids = {n: seed(svc, user, n) for n in SIZES}
            os.environ["PA_DATABASE_URL"] = url
            for n, sid in sids.items():
                rows.append((backend, "AppTest run", n, apptest_ms(sid, args.runs)))
            if backend == "postgresql" and not args.no_browser:
                for n, ms in browser_ms(url, auth_path, sids, max(3, args.runs // 3)).items():
                    rows.append((backend, "browser reload", n, ms))
        print(f"{'backend':<11} {'measure':<15} {'messages':>9} {'median ms':>10}")
        for backend, what, n, ms in rows:
            print(f"{backend:<11} {what:<15} {n:>9,} {ms:>10.1f}")
    finally:
        pa_core.db.dispose_engines()
        with eng.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
        eng.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
