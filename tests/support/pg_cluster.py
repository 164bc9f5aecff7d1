"""A throwaway PostgreSQL cluster (initdb/pg_ctl in a temp dir) for tests and benchmarks."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy import create_engine, text


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_bin(name: str) -> str | None:
    """The path of a PostgreSQL server binary (PATH, then Debian's versioned dirs)."""
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    return None


class ThrowawayCluster:
    """A PostgreSQL cluster started with initdb/pg_ctl in a temp dir (as user postgres if root)."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="pa-pg-"))
        self.port = free_port()
        self.initdb, self.pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")

    @property
    def available(self) -> bool:
        """True when this machine has initdb and pg_ctl."""
        return bool(self.initdb and self.pg_ctl)

    def _run(self, *args: str) -> None:
        cmd = list(args)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def start(self) -> str:
        """Create and start the cluster; returns its admin URL."""
        data = self.dir / "data"
        self._run(self.initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.resume()
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/postgres"

    def pause(self) -> None:
        """Stop the server (fast shutdown: live connections are closed), keeping its files."""
        self._run(self.pg_ctl, "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop")

    def resume(self) -> None:
        """Start the server (again) on the same port."""
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        data, log = str(self.dir / "data"), str(self.dir / "log")
        self._run(self.pg_ctl, "-D", data, "-o", opts, "-l", log, "-w", "start")

    def stop(self) -> None:
        """Stop the cluster and delete its files."""
        self._run(self.pg_ctl, "-D", str(self.dir / "data"), "-m", "immediate", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


def admin_exec(admin_url: str, *statements: str) -> None:
    """Run statements outside a transaction (CREATE/DROP DATABASE) on the server of `admin_url`."""
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()
