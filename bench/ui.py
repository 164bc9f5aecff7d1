"""The UI row: one chat-page script run (Streamlit AppTest) for a short and a very long session."""

from __future__ import annotations

import contextlib
import os
import statistics
import tempfile
import time
from pathlib import Path

from bench.harness import Row, percentile
from bench.seed import Seeded, Size

ROOT = Path(__file__).resolve().parent.parent
USERNAME = "hist"


@contextlib.contextmanager
def _app_environment(url: str):
    """Environment variables for app.py (database, auth YAML with the seeded user, offline)."""
    from pa_core import auth

    tmp = Path(tempfile.mkdtemp(prefix="pa-bench-ui-"))
    auth_path = tmp / "auth.yaml"
    auth.add_user(auth_path, USERNAME, "bench-password-123", name="Bench User")
    values = {
        "PA_DATABASE_URL": url,
        "PA_AUTH_CONFIG": str(auth_path),
        "PA_COOKIE_KEY": "bench-cookie-key-" + "x" * 32,
        "PA_LLM_PROVIDER": "offline",
    }
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    # Run every script run through app.py's st.navigation, as the server does (see
    # tests/app/conftest.py for why AppTest needs this).
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    PagesManager.__init__ = init
    try:
        yield
    finally:
        PagesManager.__init__ = original
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


def _chat_app(session_id: str):
    """A logged-in AppTest showing the chat page of `session_id`."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["authentication_status"] = True
    at.session_state["username"] = USERNAME
    at.run()
    at.switch_page("pages/chat.py")
    at.query_params.clear()
    at.query_params["session_id"] = session_id
    at.run()
    if at.exception:
        raise RuntimeError(f"chat page raised: {[e.value for e in at.exception]}")
    return at


def ui_rows(url: str, size: Size, seeded: Seeded, log=print) -> list[Row]:
    """Median and p95 of a chat-page script run, for the smallest and largest seeded history."""
    if not (ROOT / "pages" / "chat.py").exists():
        return [Row("UI", "chat page script run", "ours", note="pages/chat.py does not exist")]
    sizes = [min(seeded.history_sessions), max(seeded.history_sessions)]
    reps = max(5, min(size.reps, 20))
    rows = []
    with _app_environment(url):
        apps = {n: _chat_app(seeded.history_sessions[n]) for n in sizes}
        samples: dict[int, list[float]] = {n: [] for n in sizes}
        for n in sizes:  # warm-up run each
            apps[n].run()
        for _ in range(reps):  # interleaved, like the other groups
            for n in sizes:
                t0 = time.perf_counter_ns()
                apps[n].run()
                samples[n].append((time.perf_counter_ns() - t0) / 1e6)
                if apps[n].exception:
                    raise RuntimeError(f"chat page raised: {apps[n].exception[0].value}")
        for n in sizes:
            shown = sum(1 for _ in apps[n].chat_message)
            row = Row("UI", f"chat page script run, session of {n:,} messages", "ours",
                      n=len(samples[n]), median_ms=statistics.median(samples[n]),
                      p95_ms=percentile(samples[n], 0.95),
                      note=f"AppTest; {shown} messages rendered")  # fmt: skip
            rows.append(row)
            log(f"  {row.op:<44} median {row.median_ms:9.1f} ms  p95 {row.p95_ms:9.1f}")
    return rows
