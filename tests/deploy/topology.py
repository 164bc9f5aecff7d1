"""The production shape on loopback: PostgreSQL -> PgBouncer -> Streamlit and API replicas -> nginx.

Every process runs from the configuration files in deploy/ (rendered by deploy/render_config.py),
on free ports of 127.0.0.1, in its own process group, and `Topology.stop()` ends all of them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

from browser_helpers import StreamlitServer, app_env
from sqlalchemy.engine import make_url

from support.pg_cluster import admin_exec, free_port

ROOT = Path(__file__).resolve().parents[2]
RENDER = ROOT / "deploy" / "render_config.py"
NGINX = "/usr/sbin/nginx"
PGBOUNCER = "/usr/sbin/pgbouncer"
API_HEALTH = "/api/v1/personal-assistant/health"
COOKIE_SECRET = "deploy-test-streamlit-cookie-secret-" + "z" * 16


# A database whose own default time zone is not UTC: PgBouncer's timezone=UTC must win.
DATABASE_TIMEZONE = "Asia/Kolkata"


def fresh_database(admin_url: str) -> str:
    """Create an empty database with a non-UTC default time zone; returns its name."""
    name = f"pa_deploy_{uuid.uuid4().hex[:10]}"
    admin_exec(
        admin_url,
        f'CREATE DATABASE "{name}"',
        f"ALTER DATABASE \"{name}\" SET timezone = '{DATABASE_TIMEZONE}'",
    )
    return name


def direct_url(admin_url: str, database: str) -> str:
    """`database` on the server itself (not through PgBouncer)."""
    return make_url(admin_url).set(database=database).render_as_string(hide_password=False)


class TopologyError(RuntimeError):
    """A component did not start (the message holds the end of its log)."""


@dataclass
class Service:
    """One started process: a name, its Popen, its log file and its port."""

    name: str
    proc: subprocess.Popen
    log: Path
    port: int

    @property
    def address(self) -> str:
        """host:port as nginx logs it."""
        return f"127.0.0.1:{self.port}"

    def tail(self, lines: int = 40) -> str:
        """The last lines of the log."""
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""


def stop_group(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
    """Send `sig` to the process group of `proc`, then SIGKILL if it is still there."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def wait_http(url: str, service: Service, deadline: float) -> None:
    """Wait until `url` answers 200 (or raise with the service's log once `deadline` passed)."""
    while True:
        if service.proc.poll() is not None:
            raise TopologyError(f"{service.name} exited early:\n{service.tail()}")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as resp:
            if resp.status == 200:
                return
        if time.monotonic() > deadline:
            raise TopologyError(f"{service.name} did not answer {url}:\n{service.tail()}")
        time.sleep(0.2)


def wait_tcp(service: Service, deadline: float) -> None:
    """Wait until the service accepts TCP connections on its port."""
    while True:
        if service.proc.poll() is not None:
            raise TopologyError(f"{service.name} exited early:\n{service.tail()}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", service.port), 1):
            return
        if time.monotonic() > deadline:
            raise TopologyError(f"{service.name} is not listening:\n{service.tail()}")
        time.sleep(0.1)


class Topology:
    """PgBouncer, app and API replicas and nginx for one database; stop() ends everything."""

    def __init__(self, admin_url: str, auth_path: Path):
        self.admin_url = admin_url
        self.auth_path = auth_path
        # A directory the unprivileged PgBouncer and nginx workers can read (not pytest's 0700).
        self.dir = Path(tempfile.mkdtemp(prefix="pa-deploy-"))
        self.dir.chmod(0o755)
        self.pgbouncer: Service | None = None
        self.apps: list[StreamlitServer] = []
        self.apis: list[Service] = []
        self.nginx: Service | None = None
        self.nginx_port = 0

    # --- PgBouncer ---------------------------------------------------------------------------

    def start_pgbouncer(self, timeout: float = 20, users: tuple[str, ...] = ()) -> int:
        """PgBouncer (transaction mode, deploy/pgbouncer template) in front of the server;
        `users` are more roles it lets through (trust), e.g. a non-superuser app role."""
        server = make_url(self.admin_url)
        pgb = self.dir / "pgbouncer"
        pgb.mkdir()
        names = (server.username, *users)
        (pgb / "userlist.txt").write_text("".join(f'"{name}" ""\n' for name in names))
        port = free_port()
        ini = pgb / "pgbouncer.ini"
        self._render(
            "pgbouncer",
            *("--database", "*", "--pg-host", server.host, "--pg-port", str(server.port)),
            *("--listen-port", str(port), "--auth-type", "trust"),
            *("--auth-file", str(pgb / "userlist.txt"), "--admin-users", server.username),
            *("--pool-size", "10", "--max-db-connections", "30"),
            *("--logfile", str(pgb / "pgbouncer.log"), "--pidfile", str(pgb / "pgbouncer.pid")),
            *("--out", str(ini)),
        )
        cmd = [PGBOUNCER, str(ini)]
        if os.geteuid() == 0:  # PgBouncer refuses to run as root
            shutil.chown(pgb, "postgres")
            for f in pgb.iterdir():
                shutil.chown(f, "postgres")
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        self.pgbouncer = self._spawn("pgbouncer", cmd, port)
        wait_tcp(self.pgbouncer, time.monotonic() + timeout)
        return port

    def pooled_url(self, database: str) -> str:
        """The URL of `database` through PgBouncer."""
        assert self.pgbouncer is not None
        server = make_url(self.admin_url)
        url = server.set(host="127.0.0.1", port=self.pgbouncer.port, database=database)
        return url.render_as_string(hide_password=False)

    # --- replicas ----------------------------------------------------------------------------

    def start_replicas(self, database_url: str, *, apps: int = 2, apis: int = 2) -> None:
        """Start `apps` Streamlit and `apis` API replicas at once; wait until all are healthy."""
        env = app_env(database_url, self.auth_path)
        env["STREAMLIT_SERVER_COOKIE_SECRET"] = COOKIE_SECRET  # the same on every replica
        for n in range(apps):
            server = StreamlitServer(env, self.dir / f"app{n + 1}.log")
            self.apps.append(server.start(wait_healthy=False))
        for n in range(apis):
            port = free_port()
            cmd = [sys.executable, "-m", "pa_core", "serve-api", "--port", str(port)]
            self.apis.append(self._spawn(f"api{n + 1}", cmd, port, env=env))
        deadline = time.monotonic() + 120
        for server in self.apps:
            service = Service("streamlit", server.proc, server.log_path, server.port)
            wait_http(f"{server.url}/_stcore/health", service, deadline)
        for api in self.apis:
            wait_http(f"http://{api.address}{API_HEALTH}", api, deadline)

    def app_services(self) -> list[Service]:
        """The Streamlit replicas as Services (name app1, app2, ...)."""
        return [
            Service(f"app{n + 1}", s.proc, s.log_path, s.port)
            for n, s in enumerate(self.apps)
            if s.proc is not None
        ]

    # --- nginx -------------------------------------------------------------------------------

    def start_nginx(self, timeout: float = 20) -> str:
        """nginx from deploy/nginx in front of every replica; returns its base URL."""
        prefix = self.dir / "nginx"
        prefix.mkdir()
        prefix.chmod(0o755)
        self.nginx_port = free_port()
        self._render(
            "nginx-standalone",
            *("--prefix", str(prefix), "--listen", f"127.0.0.1:{self.nginx_port}"),
            *(arg for s in self.apps for arg in ("--app", f"127.0.0.1:{s.port}")),
            *(arg for a in self.apis for arg in ("--api", a.address)),
        )
        cmd = [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"]
        self.nginx = self._spawn("nginx", cmd, self.nginx_port)
        base = f"http://127.0.0.1:{self.nginx_port}"
        wait_http(base + API_HEALTH, self.nginx, time.monotonic() + timeout)
        return base

    def access_log(self) -> list[str]:
        """nginx's access log lines (format pa_upstream: ... upstream=ADDR route=KEY ...)."""
        path = self.dir / "nginx" / "access.log"
        return path.read_text(errors="replace").splitlines() if path.exists() else []

    # --- teardown ----------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop every process this topology started (also the half-started ones)."""
        if self.nginx is not None:
            stop_group(self.nginx.proc, signal.SIGQUIT)
        for api in self.apis:
            stop_group(api.proc)
        for server in self.apps:
            server.stop()
        if self.pgbouncer is not None:
            stop_group(self.pgbouncer.proc)

    def cleanup(self) -> None:
        """Delete the working directory (after stop)."""
        shutil.rmtree(self.dir, ignore_errors=True)

    def _spawn(
        self, name: str, cmd: list[str], port: int, env: dict[str, str] | None = None
    ) -> Service:
        """Start `cmd` in its own process group, output to DIR/NAME.log."""
        log_path = self.dir / f"{name}.log"
        with log_path.open("ab") as log:
            proc = subprocess.Popen(
                cmd,
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return Service(name, proc, log_path, port)

    def _render(self, *args: str) -> None:
        """Run deploy/render_config.py with `args` (the operator's own command)."""
        subprocess.run([sys.executable, str(RENDER), *args], check=True, timeout=30)
