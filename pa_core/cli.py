"""Command line: python -m pa_core migrate | cleanup | export-csv | export-json | import |
backup | restore | user | token | serve-api | demo-data | spool (user: pa_core.cli_users)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import BinaryIO

from tqdm import tqdm

from pa_core import auth, cli_data, cli_users
from pa_core.api.serve import serve
from pa_core.cli_common import Command, auth_path, open_service
from pa_core.cli_spool import add_spool_commands
from pa_core.config import Settings, get_settings
from pa_core.demo import create_demo_data
from pa_core.errors import PAError
from pa_core.migrate import migrate
from pa_core.records import UserRecord
from pa_core.service import ConversationService

PROGRESS_FROM = 1000  # show a progress bar for this many rows or more


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run one command, return the exit code (errors print one readable line)."""
    args = build_parser().parse_args(argv)
    settings = get_settings()
    if args.database_url:
        settings = settings.model_copy(update={"database_url": args.database_url})
    try:
        return args.func(args, settings) or 0
    except PAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    """Upgrade the database to the newest schema."""
    migrate(settings.resolved_database_url)
    print("database is at the newest schema")
    return 0


def cmd_cleanup(args: argparse.Namespace, settings: Settings) -> int:
    """Delete sessions idle for longer than the retention period."""
    svc = open_service(settings)
    days = args.older_than_days
    if days is None:
        days = settings.session_retention_days
    total = svc.cleanup_old_sessions(days, dry_run=True)
    kept = f"; {svc.count_pinned_idle(days)} pinned session(s) kept"
    if args.dry_run:
        print(f"{total} session(s) idle for more than {days} days would be removed{kept} (dry run)")
        return 0
    with tqdm(total=total, unit="session", disable=args.quiet or total < PROGRESS_FROM) as bar:
        removed = svc.cleanup_old_sessions(days, progress=bar.update)
    print(f"removed {removed} session(s) idle for more than {days} days{kept}")
    return 0


def write_csv(
    svc: ConversationService,
    user: UserRecord,
    out: BinaryIO,
    *,
    session_ids: list[str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> None:
    """The user's CSV export as UTF-8 bytes without a BOM: the bytes GET /export.csv answers."""
    for chunk in svc.export_csv(user, session_ids, progress=progress):
        out.write(chunk.encode("utf-8"))


def cmd_export_csv(args: argparse.Namespace, settings: Settings) -> int:
    """Export a user's messages as CSV (UTF-8, no BOM) to a file or stdout."""
    svc = open_service(settings)
    user = svc.get_user(args.user)
    if user is None:
        print(f"error: no user named {args.user!r} in the database", file=sys.stderr)
        return 2
    if not args.output:
        sys.stdout.flush()
        write_csv(svc, user, sys.stdout.buffer, session_ids=args.session)
        sys.stdout.buffer.flush()
        return 0
    total = svc.count_messages(user, args.session)
    show = not args.quiet and total >= PROGRESS_FROM
    with open(args.output, "wb") as out, tqdm(total=total, unit="msg", disable=not show) as bar:
        write_csv(svc, user, out, session_ids=args.session, progress=bar.update)
    print(f"wrote {total} message(s) to {args.output}")
    return 0


def _login_user(
    args: argparse.Namespace, settings: Settings
) -> tuple[ConversationService, UserRecord]:
    """The service and the user row of a login of the auth config (any case of its name)."""
    if settings.auth_mode == "oidc":  # single sign-on users exist once they logged in
        svc = open_service(settings)
        user = svc.get_user(args.username.casefold())
        if user is None:
            raise PAError(f"no user {args.username!r} yet: they log in once by single sign-on")
        return svc, user
    path = auth_path(args, settings)
    config = auth.load_auth_config(path)
    name = auth.find_username(config, args.username)
    if name is None:
        raise PAError(f"no login named {args.username!r} in {path}")
    svc = open_service(settings)
    return svc, auth.sync_user(svc, config, name)


def cmd_token_create(args: argparse.Namespace, settings: Settings) -> int:
    """Issue a REST API token for a login (printed once; only its hash is stored)."""
    svc, user = _login_user(args, settings)
    token, record = svc.issue_token(user, name=args.name, expires_in_days=args.expires_days)
    expires = record.expires_at.isoformat() if record.expires_at else "never"
    print(
        f"token {record.id} for {user.username!r} (expires {expires}); store it now:",
        file=sys.stderr,
    )
    print(token)
    return 0


def cmd_token_list(args: argparse.Namespace, settings: Settings) -> int:
    """List a login's API tokens (id, prefix, name, state)."""
    svc, user = _login_user(args, settings)
    for t in svc.list_tokens(user):
        state = "active" if t.active else ("revoked" if t.revoked_at else "expired")
        used = t.last_used_at.isoformat() if t.last_used_at else "never"
        print(f"{t.id}\t{t.token_prefix}…\t{t.name}\t{state}\tlast used {used}")
    return 0


def cmd_token_revoke(args: argparse.Namespace, settings: Settings) -> int:
    """Revoke one of a login's API tokens by id."""
    svc, user = _login_user(args, settings)
    if not svc.revoke_token(user, args.token_id):
        print(f"error: {args.username!r} has no active token {args.token_id}", file=sys.stderr)
        return 2
    print(f"revoked token {args.token_id}")
    return 0


def cmd_serve_api(args: argparse.Namespace, settings: Settings) -> int:
    """Serve the REST API with uvicorn (these settings; --workers processes)."""
    serve(
        settings,
        host=args.host,
        port=args.port,
        workers=args.workers,
        access_log=not args.no_access_log,
        loop=args.loop,
    )
    return 0


def cmd_demo_data(args: argparse.Namespace, settings: Settings) -> int:
    """Create a few sessions of sample conversation for a user."""
    svc = open_service(settings)
    user = svc.ensure_user(args.user)
    count = create_demo_data(svc, user, sessions=args.sessions, messages=args.messages)
    print(f"created {count} message(s) for {args.user!r}")
    return 0


def _command(sub: argparse._SubParsersAction, name: str, func: Command) -> argparse.ArgumentParser:
    """A subcommand whose help is the first line of `func`'s docstring."""
    parser = sub.add_parser(name, help=(func.__doc__ or "").splitlines()[0])
    parser.set_defaults(func=func)
    return parser


def _add_data_commands(sub: argparse._SubParsersAction) -> None:
    """migrate, cleanup, export-csv, demo-data."""
    _command(sub, "migrate", cmd_migrate)
    p = _command(sub, "cleanup", cmd_cleanup)
    p.add_argument("--older-than-days", type=int, default=None)
    p.add_argument("--dry-run", action="store_true")
    p.add_argument("--quiet", action="store_true")
    p = _command(sub, "export-csv", cmd_export_csv)
    p.add_argument("--user", required=True)
    p.add_argument("--session", action="append", help="a session id (repeatable); default: all")
    p.add_argument("--output", help="file to write (default: stdout)")
    p.add_argument("--quiet", action="store_true")
    p = _command(sub, "demo-data", cmd_demo_data)
    p.add_argument("--user", required=True)
    p.add_argument("--sessions", type=int, default=5)
    p.add_argument("--messages", type=int, default=10)


def _add_token_commands(sub: argparse._SubParsersAction) -> None:
    """token create | list | revoke."""
    tokens = sub.add_parser("token", help="manage REST API tokens")
    actions = tokens.add_subparsers(required=True, metavar="ACTION")
    p = _command(actions, "create", cmd_token_create)
    p.add_argument("username")
    p.add_argument("--name", default="api", help="a label, e.g. the tool that uses it")
    p.add_argument("--expires-days", type=int, default=None, help="default: never")
    p.add_argument("--auth-config", help="overrides PA_AUTH_CONFIG")
    p = _command(actions, "list", cmd_token_list)
    p.add_argument("username")
    p.add_argument("--auth-config", help="overrides PA_AUTH_CONFIG")
    p = _command(actions, "revoke", cmd_token_revoke)
    p.add_argument("username")
    p.add_argument("token_id", type=int)
    p.add_argument("--auth-config", help="overrides PA_AUTH_CONFIG")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(prog="python -m pa_core", description=__doc__)
    parser.add_argument("--database-url", help="overrides PA_DATABASE_URL")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")
    _add_data_commands(sub)
    cli_data.add_commands(sub, _command)
    cli_users.add_commands(sub, _command)
    _add_token_commands(sub)
    add_spool_commands(sub)
    p = _command(sub, "serve-api", cmd_serve_api)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    p.add_argument("--no-access-log", action="store_true", help="no log line per request")
    p.add_argument(
        "--loop",
        choices=["auto", "asyncio", "uvloop"],
        default="auto",
        help="the event loop (auto: uvloop when installed)",
    )
    return parser
