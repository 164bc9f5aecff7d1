"""Command line: python -m pa_core migrate | cleanup | export-csv | user | serve-api | demo-data."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from tqdm import tqdm

from pa_core import auth
from pa_core.config import get_settings
from pa_core.errors import PAError
from pa_core.migrate import migrate
from pa_core.service import ConversationService


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run one command, return the exit code (errors print one readable line)."""
    parser = _parser()
    args = parser.parse_args(argv)
    settings = get_settings()
    url = args.database_url or settings.resolved_database_url
    try:
        return args.func(args, url=url, settings=settings) or 0
    except PAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _service(url: str) -> ConversationService:
    migrate(url)
    return ConversationService.from_url(url)


def cmd_migrate(args, *, url, settings) -> int:
    """Upgrade the database to the newest schema."""
    migrate(url)
    print("database is at the newest schema")
    return 0


def cmd_cleanup(args, *, url, settings) -> int:
    """Delete sessions idle for longer than the retention period."""
    svc = _service(url)
    days = (
        args.older_than_days
        if args.older_than_days is not None
        else settings.session_retention_days
    )
    if args.dry_run:
        count = svc.cleanup_old_sessions(days, dry_run=True)
        print(f"{count} session(s) idle for more than {days} days would be removed (dry run)")
        return 0
    total = svc.cleanup_old_sessions(days, dry_run=True)
    with tqdm(total=total, unit="session", disable=args.quiet or total < 1000) as bar:
        removed = svc.cleanup_old_sessions(days, progress=bar.update)
    print(f"removed {removed} session(s) idle for more than {days} days")
    return 0


def cmd_export_csv(args, *, url, settings) -> int:
    """Export a user's messages as CSV to a file or stdout."""
    svc = _service(url)
    user = svc.get_user(args.user)
    if user is None:
        print(f"error: no user named {args.user!r} in the database", file=sys.stderr)
        return 2
    total = svc.count_messages(user, args.session)
    out = open(args.output, "w", encoding="utf-8", newline="") if args.output else sys.stdout  # noqa: SIM115
    try:
        show = bool(args.output) and not args.quiet and total >= 1000
        with tqdm(total=total, unit="msg", disable=not show) as bar:
            for chunk in svc.export_csv(user, args.session, progress=bar.update):
                out.write(chunk)
    finally:
        if args.output:
            out.close()
    if args.output:
        print(f"wrote {total} message(s) to {args.output}")
    return 0


def cmd_user_add(args, *, url, settings) -> int:
    """Add a login to the auth config and the users table."""
    password = args.password
    if password is None:
        password = getpass.getpass("Password: ") if sys.stdin.isatty() else sys.stdin.readline()
        password = password.rstrip("\n")
    path = Path(args.auth_config or settings.auth_config)
    auth.add_user(path, args.username, password, name=args.name, email=args.email, admin=args.admin)
    profile = auth.user_profile(auth.load_auth_config(path), args.username)
    _service(url).ensure_user(args.username, **profile)
    print(f"added {'admin' if args.admin else 'user'} {args.username!r} to {path}")
    return 0


def cmd_user_list(args, *, url, settings) -> int:
    """List the logins of the auth config."""
    path = Path(args.auth_config or settings.auth_config)
    config = auth.load_auth_config(path)
    for name in sorted(config["credentials"]["usernames"]):
        print(f"{name}\t{auth.user_profile(config, name)['role']}")
    return 0


def _login_user(args, *, url, settings):
    """The service and the user row of a login that exists in the auth config."""
    path = Path(args.auth_config or settings.auth_config)
    config = auth.load_auth_config(path)
    if args.username not in config["credentials"]["usernames"]:
        raise PAError(f"no login named {args.username!r} in {path}")
    svc = _service(url)
    return svc, svc.ensure_user(args.username, **auth.user_profile(config, args.username))


def cmd_token_create(args, *, url, settings) -> int:
    """Issue a REST API token for a login (printed once; only its hash is stored)."""
    svc, user = _login_user(args, url=url, settings=settings)
    token, record = svc.issue_token(user, name=args.name, expires_in_days=args.expires_days)
    expires = record.expires_at.isoformat() if record.expires_at else "never"
    print(
        f"token {record.id} for {user.username!r} (expires {expires}); store it now:",
        file=sys.stderr,
    )
    print(token)
    return 0


def cmd_token_list(args, *, url, settings) -> int:
    """List a login's API tokens (id, prefix, name, state)."""
    svc, user = _login_user(args, url=url, settings=settings)
    for t in svc.list_tokens(user):
        state = "active" if t.active else ("revoked" if t.revoked_at else "expired")
        used = t.last_used_at.isoformat() if t.last_used_at else "never"
        print(f"{t.id}\t{t.token_prefix}…\t{t.name}\t{state}\tlast used {used}")
    return 0


def cmd_token_revoke(args, *, url, settings) -> int:
    """Revoke one of a login's API tokens by id."""
    svc, user = _login_user(args, url=url, settings=settings)
    if not svc.revoke_token(user, args.token_id):
        print(f"error: {args.username!r} has no active token {args.token_id}", file=sys.stderr)
        return 2
    print(f"revoked token {args.token_id}")
    return 0


def cmd_serve_api(args, *, url, settings) -> int:
    """Serve the REST API with uvicorn."""
    import os

    import uvicorn

    if args.database_url:  # pa_core.api:app reads its settings from the environment
        os.environ["PA_DATABASE_URL"] = url
        get_settings.cache_clear()
    uvicorn.run("pa_core.api:app", host=args.host, port=args.port)
    return 0


def cmd_demo_data(args, *, url, settings) -> int:
    """Create a few sessions of sample conversation for a user."""
    from pa_core.demo import create_demo_data

    svc = _service(url)
    user = svc.ensure_user(args.user)
    count = create_demo_data(svc, user, sessions=args.sessions, messages=args.messages)
    print(f"created {count} message(s) for {args.user!r}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pa_core", description=__doc__)
    parser.add_argument("--database-url", help="overrides PA_DATABASE_URL")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    p = sub.add_parser("migrate", help=cmd_migrate.__doc__)
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("cleanup", help=cmd_cleanup.__doc__)
    p.add_argument("--older-than-days", type=int, default=None)
    p.add_argument("--dry-run", action="store_true")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_cleanup)

    p = sub.add_parser("export-csv", help=cmd_export_csv.__doc__)
    p.add_argument("--user", required=True)
    p.add_argument("--session", action="append", help="a session id (repeatable); default: all")
    p.add_argument("--output", help="file to write (default: stdout)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_export_csv)

    users = sub.add_parser("user", help="manage logins").add_subparsers(
        required=True, metavar="ACTION"
    )
    p = users.add_parser("add", help=cmd_user_add.__doc__)
    p.add_argument("username")
    p.add_argument("--password", help="default: prompt (or read one line from stdin)")
    p.add_argument("--name")
    p.add_argument("--email")
    p.add_argument("--admin", action="store_true")
    p.add_argument("--auth-config", help="overrides PA_AUTH_CONFIG")
    p.set_defaults(func=cmd_user_add)
    p = users.add_parser("list", help=cmd_user_list.__doc__)
    p.add_argument("--auth-config", help="overrides PA_AUTH_CONFIG")
    p.set_defaults(func=cmd_user_list)

    tokens = sub.add_parser("token", help="manage REST API tokens").add_subparsers(
        required=True, metavar="ACTION"
    )
    p = tokens.add_parser("create", help=cmd_token_create.__doc__)
    p.add_argument("username")
    p.add_argument("--name", default="api", help="a label, e.g. the tool that uses it")
    p.add_argument("--expires-days", type=int, default=None, help="default: never")
    p.add_argument("--auth-config", help="overrides PA_AUTH_CONFIG")
    p.set_defaults(func=cmd_token_create)
    p = tokens.add_parser("list", help=cmd_token_list.__doc__)
    p.add_argument("username")
    p.add_argument("--auth-config", help="overrides PA_AUTH_CONFIG")
    p.set_defaults(func=cmd_token_list)
    p = tokens.add_parser("revoke", help=cmd_token_revoke.__doc__)
    p.add_argument("username")
    p.add_argument("token_id", type=int)
    p.add_argument("--auth-config", help="overrides PA_AUTH_CONFIG")
    p.set_defaults(func=cmd_token_revoke)

    p = sub.add_parser("serve-api", help=cmd_serve_api.__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(func=cmd_serve_api)

    p = sub.add_parser("demo-data", help=cmd_demo_data.__doc__)
    p.add_argument("--user", required=True)
    p.add_argument("--sessions", type=int, default=5)
    p.add_argument("--messages", type=int, default=10)
    p.set_defaults(func=cmd_demo_data)
    return parser


if __name__ == "__main__":
    sys.exit(main())
