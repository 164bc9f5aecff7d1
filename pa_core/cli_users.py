"""Command line, logins: user add | list | disable | enable | role | reset-password.

Every change goes through the service's admin methods with the command line as the actor, so
the credentials file is written by the one login policy and each change is in the audit log.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from pa_core import auth
from pa_core.cli_common import AddCommand, auth_path, open_service
from pa_core.config import Settings
from pa_core.service.facade_admin import COMMAND_LINE


def _read_password(args: argparse.Namespace) -> str:
    """--password, else a prompt (a terminal) or one line of stdin."""
    if args.password is not None:
        return args.password
    password = getpass.getpass("Password: ") if sys.stdin.isatty() else sys.stdin.readline()
    return password.rstrip("\n")


def cmd_user_add(args: argparse.Namespace, settings: Settings) -> int:
    """Add a login to the auth config and the users table."""
    password = _read_password(args)
    path = auth_path(args, settings)
    role = "admin" if args.admin else "user"
    open_service(settings).admin_add_user(
        COMMAND_LINE,
        args.username,
        password,
        auth_config=path,
        display_name=args.name,
        email=args.email,
        role=role,
    )
    print(f"added {role} {args.username!r} to {path}")
    return 0


def cmd_user_list(args: argparse.Namespace, settings: Settings) -> int:
    """List the logins of the auth config."""
    config = auth.load_auth_config(auth_path(args, settings))
    for name in sorted(config["credentials"]["usernames"]):
        print(f"{name}\t{auth.user_profile(config, name)['role']}")
    return 0


def cmd_user_disable(args: argparse.Namespace, settings: Settings) -> int:
    """Disable an account: no login by the app, the API or its tokens until enabled."""
    open_service(settings).admin_set_disabled(COMMAND_LINE, args.username, True)
    print(f"disabled {args.username!r}")
    return 0


def cmd_user_enable(args: argparse.Namespace, settings: Settings) -> int:
    """Enable a disabled account again."""
    open_service(settings).admin_set_disabled(COMMAND_LINE, args.username, False)
    print(f"enabled {args.username!r}")
    return 0


def cmd_user_role(args: argparse.Namespace, settings: Settings) -> int:
    """Make an account 'user' or 'admin' (one enabled admin always stays)."""
    path = auth_path(args, settings)
    open_service(settings).admin_set_role(COMMAND_LINE, args.username, args.role, auth_config=path)
    print(f"{args.username!r} is now {args.role}")
    return 0


def cmd_user_reset_password(args: argparse.Namespace, settings: Settings) -> int:
    """Give a login a new password (prompted, or --password)."""
    password = _read_password(args)
    path = auth_path(args, settings)
    open_service(settings).admin_reset_password(
        COMMAND_LINE, args.username, password, auth_config=path
    )
    print(f"new password set for {args.username!r}")
    return 0


def add_commands(sub: argparse._SubParsersAction, command: AddCommand) -> None:
    """user add | list | disable | enable | role | reset-password."""
    users = sub.add_parser("user", help="manage logins")
    actions = users.add_subparsers(required=True, metavar="ACTION")
    p = command(actions, "add", cmd_user_add)
    p.add_argument("username")
    p.add_argument("--password", help="default: prompt (or read one line from stdin)")
    p.add_argument("--name")
    p.add_argument("--email")
    p.add_argument("--admin", action="store_true")
    command(actions, "list", cmd_user_list)
    for name, func in (("disable", cmd_user_disable), ("enable", cmd_user_enable)):
        command(actions, name, func).add_argument("username")
    p = command(actions, "role", cmd_user_role)
    p.add_argument("username")
    p.add_argument("role", choices=("user", "admin"))
    p = command(actions, "reset-password", cmd_user_reset_password)
    p.add_argument("username")
    p.add_argument("--password", help="default: prompt (or read one line from stdin)")
    for parser in actions.choices.values():
        parser.add_argument("--auth-config", help="overrides PA_AUTH_CONFIG")
