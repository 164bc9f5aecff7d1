"""`python -m pa_core spool flush`: write the messages kept while the database was down."""

from __future__ import annotations

import argparse

from pa_core.agent.outbox import flush_database
from pa_core.config import Settings
from pa_core.migrate import migrate
from pa_core.service import ConversationService


def cmd_spool_flush(args: argparse.Namespace, settings: Settings) -> int:
    """Write every spooled message of every user of the configured database."""
    url = settings.resolved_database_url
    migrate(url)
    service = ConversationService.from_url(url)
    written = flush_database(service, args.spool_dir or settings.spool_dir)
    print(f"wrote {written} spooled message(s)")
    return 0


def add_spool_commands(sub: argparse._SubParsersAction) -> None:
    """spool flush."""
    spool = sub.add_parser("spool", help="messages kept on disk while the database was down")
    actions = spool.add_subparsers(required=True, metavar="ACTION")
    p = actions.add_parser("flush", help=(cmd_spool_flush.__doc__ or "").splitlines()[0])
    p.set_defaults(func=cmd_spool_flush)
    p.add_argument("--spool-dir", help="overrides PA_SPOOL_DIR")
