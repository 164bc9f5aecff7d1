"""The first-run setup code: only whoever started the server can create the first administrator."""

from __future__ import annotations

import hmac
import logging
import os
import secrets
import sys
from pathlib import Path
from typing import TextIO

from pa_core.auth.credentials import has_users

SETUP_CODE_FILE = "setup_code"
logger = logging.getLogger(__name__)


def setup_code_path(auth_config: Path | str) -> Path:
    """Where the one-time first-run code lives: beside the auth config."""
    return Path(auth_config).parent / SETUP_CODE_FILE


def ensure_setup_code(auth_config: Path | str) -> tuple[str, bool]:
    """The first-run code (created once, mode 0600); True as second item when just created."""
    path = setup_code_path(auth_config)
    if path.exists():
        return path.read_text(encoding="utf-8").strip(), False
    path.parent.mkdir(parents=True, exist_ok=True)
    code = secrets.token_urlsafe(9)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another browser tab or process created it at the same moment
        return path.read_text(encoding="utf-8").strip(), False
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(code)
    return code, True


def check_setup_code(auth_config: Path | str, entered: str | None) -> bool:
    """True when `entered` matches the stored first-run code (constant-time comparison)."""
    path = setup_code_path(auth_config)
    if not entered or not path.exists():
        return False
    stored = path.read_text(encoding="utf-8").strip()
    return hmac.compare_digest(stored.encode(), entered.strip().encode())


def remove_setup_code(auth_config: Path | str) -> None:
    """Forget the first-run code once the first admin exists."""
    setup_code_path(auth_config).unlink(missing_ok=True)


def print_setup_code(auth_config: Path | str, code: str, *, stream: TextIO | None = None) -> None:
    """Show the code where the server was started (stderr), with the file that holds it."""
    print(
        f"\n  Personal Assistant first-run setup code: {code}\n"
        f"  (also stored in {setup_code_path(auth_config)})\n",
        file=stream or sys.stderr,
        flush=True,
    )


def announce_setup_code(auth_config: Path | str, *, stream: TextIO | None = None) -> str | None:
    """On an install without users: the setup code, created if needed and printed; else None."""
    if has_users(auth_config):
        return None
    code, _created = ensure_setup_code(auth_config)
    print_setup_code(auth_config, code, stream=stream)
    return code
