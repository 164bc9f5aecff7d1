"""Run work in threads released at the same moment, for concurrency tests."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any


def run_together(work: Callable[[Any], None], args: Iterable[Any]) -> list[BaseException]:
    """Call `work(arg)` per arg, each in its own thread, all released at once; what they raised."""
    items = list(args)
    start = threading.Barrier(len(items))
    errors: list[BaseException] = []

    def run(arg: Any) -> None:
        try:
            start.wait()
            work(arg)
        except Exception as exc:  # noqa: BLE001 - collected for the caller to assert on
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(arg,)) for arg in items]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a worker thread did not finish"
    return errors
