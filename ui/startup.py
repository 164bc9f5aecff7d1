"""Work done once when the server starts (before any browser connects)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from pa_core import PAError, auth
from ui import state

logger = logging.getLogger(__name__)


def announce_first_run() -> str | None:
    """On an install without users: print (and store, mode 0600) the first-run setup code."""
    if state.settings().auth_mode == "oidc":
        return None  # single sign-on creates users on their first login: no first-run page
    try:
        return auth.announce_setup_code(state.settings().auth_config)
    except (PAError, OSError):
        # The setup page shows the problem to whoever opens the app; the server still starts.
        logger.exception("Could not prepare the first-run setup code")
        return None


@asynccontextmanager
async def lifespan(_app: Any) -> AsyncIterator[None]:
    """The server's startup hook (st.App): announce the first-run setup code, then serve."""
    announce_first_run()
    yield
