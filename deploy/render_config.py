"""Fill in the deploy/ templates: nginx in front of the replicas, PgBouncer in front of PostgreSQL.

Standard library only, so it runs on a proxy host without the app installed. Examples:

    python deploy/render_config.py nginx --listen 80 --app 127.0.0.1:8501 --app 127.0.0.1:8502 \
        --api 127.0.0.1:8601 --api 127.0.0.1:8602 --out /etc/nginx/conf.d/personal-assistant.conf
    python deploy/render_config.py nginx-standalone --prefix /tmp/pa-nginx --listen 8080 \
        --app 127.0.0.1:8501 --api 127.0.0.1:8601
    python deploy/render_config.py pgbouncer --out /etc/pgbouncer/pgbouncer.ini

Only `${NAME}` (upper case) is a placeholder; nginx's own `$variables` pass through untouched.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PLACEHOLDER = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")
DEFAULT_ACCESS_LOG = "/var/log/nginx/personal-assistant.access.log"
SERVER_LINE = "    server {address} max_fails={max_fails} fail_timeout={fail_timeout};"


class TemplateError(Exception):
    """A template names a value the command did not provide."""


def render(template: str, values: dict[str, str]) -> str:
    """`template` with every `${NAME}` replaced by values[NAME]; unknown names raise."""
    missing = sorted({m.group(1) for m in PLACEHOLDER.finditer(template)} - set(values))
    if missing:
        raise TemplateError(f"no value for {', '.join(missing)}")
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def server_lines(addresses: list[str], *, max_fails: int, fail_timeout: str) -> str:
    """The `server` lines of one upstream block."""
    return "\n".join(
        SERVER_LINE.format(address=a, max_fails=max_fails, fail_timeout=fail_timeout)
        for a in addresses
    )


def nginx_site(args: argparse.Namespace) -> str:
    """The site configuration (upstreams and the server block) for nginx's http context."""
    servers = {"max_fails": args.max_fails, "fail_timeout": args.fail_timeout}
    values = {
        "APP_SERVERS": server_lines(args.app, **servers),
        "API_SERVERS": server_lines(args.api, **servers),
        "LISTEN": args.listen,
        "SERVER_NAME": args.server_name,
        "ACCESS_LOG": args.access_log,
    }
    return render((HERE / "nginx" / "personal-assistant.conf.template").read_text(), values)


def write_standalone(args: argparse.Namespace) -> Path:
    """Write PREFIX/nginx.conf and PREFIX/site.conf for a private nginx; returns nginx.conf."""
    prefix = Path(args.prefix).resolve()
    (prefix / "tmp").mkdir(parents=True, exist_ok=True)
    if args.access_log == DEFAULT_ACCESS_LOG:
        args.access_log = str(prefix / "access.log")
    site = prefix / "site.conf"
    site.write_text(nginx_site(args))
    values = {"WORKERS": str(args.workers), "PREFIX": str(prefix), "SITE_CONF": str(site)}
    conf = prefix / "nginx.conf"
    conf.write_text(render((HERE / "nginx" / "nginx.conf.template").read_text(), values))
    return conf


def pgbouncer_ini(args: argparse.Namespace) -> str:
    """The PgBouncer configuration (transaction mode)."""
    values = {
        "DATABASE": args.database,
        "PG_HOST": args.pg_host,
        "PG_PORT": str(args.pg_port),
        "LISTEN_ADDR": args.listen_addr,
        "LISTEN_PORT": str(args.listen_port),
        "AUTH_TYPE": args.auth_type,
        "AUTH_FILE": args.auth_file,
        "ADMIN_USERS": args.admin_users,
        "MAX_CLIENT_CONN": str(args.max_client_conn),
        "POOL_SIZE": str(args.pool_size),
        "RESERVE_POOL_SIZE": str(args.reserve_pool_size),
        "MAX_DB_CONNECTIONS": str(args.max_db_connections),
        "LOGFILE": args.logfile,
        "PIDFILE": args.pidfile,
    }
    return render((HERE / "pgbouncer" / "pgbouncer.ini.template").read_text(), values)


def _nginx_options(p: argparse.ArgumentParser) -> None:
    """Options shared by the two nginx commands."""
    p.add_argument("--listen", default="80", help="nginx `listen` value, e.g. 127.0.0.1:8080")
    p.add_argument("--server-name", default="_")
    p.add_argument("--app", action="append", required=True, help="a Streamlit replica host:port")
    p.add_argument("--api", action="append", required=True, help="an API replica host:port")
    p.add_argument("--max-fails", type=int, default=1)
    p.add_argument("--fail-timeout", default="10s")
    p.add_argument("--access-log", default=DEFAULT_ACCESS_LOG)


def build_parser() -> argparse.ArgumentParser:
    """The command line: nginx | nginx-standalone | pgbouncer."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("nginx", help="the site config for /etc/nginx/conf.d/")
    _nginx_options(p)
    p.add_argument("--out", help="file to write (default: stdout)")
    p = sub.add_parser("nginx-standalone", help="nginx.conf + site.conf for a private nginx")
    _nginx_options(p)
    p.add_argument("--prefix", required=True, help="directory for the config, logs and temp")
    p.add_argument("--workers", type=int, default=1)
    p = sub.add_parser("pgbouncer", help="pgbouncer.ini in transaction mode")
    p.add_argument("--database", default="personal_assistant", help="name, or * for any")
    p.add_argument("--pg-host", default="127.0.0.1")
    p.add_argument("--pg-port", type=int, default=5432)
    p.add_argument("--listen-addr", default="127.0.0.1")
    p.add_argument("--listen-port", type=int, default=6432)
    p.add_argument("--auth-type", default="scram-sha-256")
    p.add_argument("--auth-file", default="/etc/pgbouncer/userlist.txt")
    p.add_argument("--admin-users", default="postgres")
    p.add_argument("--max-client-conn", type=int, default=200)
    p.add_argument("--pool-size", type=int, default=20)
    p.add_argument("--reserve-pool-size", type=int, default=5)
    p.add_argument("--max-db-connections", type=int, default=40)
    p.add_argument("--logfile", default="/var/log/postgresql/pgbouncer.log")
    p.add_argument("--pidfile", default="/run/postgresql/pgbouncer.pid")
    p.add_argument("--out", help="file to write (default: stdout)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Render the requested configuration; 2 and a message on a template problem."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "nginx-standalone":
            print(write_standalone(args))
            return 0
        text = nginx_site(args) if args.command == "nginx" else pgbouncer_ini(args)
    except TemplateError as exc:
        print(f"render_config: {exc}", file=sys.stderr)
        return 2
    if args.out:
        Path(args.out).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
