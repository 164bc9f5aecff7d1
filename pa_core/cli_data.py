"""Command line, data moving: export-json, import, backup, restore (registered by pa_core.cli)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from typing import BinaryIO

from pa_core.cli_common import AddCommand, open_service
from pa_core.config import Settings
from pa_core.errors import PAError
from pa_core.records import ImportReport, UserRecord
from pa_core.service import ConversationService


def _user(svc: ConversationService, name: str, *, create: bool = False) -> UserRecord:
    """The user row `name` (created with --create); PAError when there is none."""
    user = svc.ensure_user(name) if create else svc.get_user(name)
    if user is None:
        raise PAError(f"no user named {name!r} in the database (they log in once, or use --create)")
    return user


def write_chunks(chunks: Iterator[str], output: str | None) -> None:
    """UTF-8 text chunks to the file `output`, or to stdout when it is None or '-'."""
    if not output or output == "-":
        sys.stdout.flush()
        _write(chunks, sys.stdout.buffer)
        sys.stdout.buffer.flush()
        return
    with open(output, "wb") as out:
        _write(chunks, out)


def _write(chunks: Iterator[str], out: BinaryIO) -> None:
    """Encode and write every chunk."""
    for chunk in chunks:
        out.write(chunk.encode("utf-8"))


def print_report(report: ImportReport, *, what: str) -> None:
    """The report of an import or restore, one line, then its warnings."""
    print(
        f"{what}: {report.sessions_imported} session(s) with {report.messages_imported} "
        f"message(s) imported, {report.sessions_skipped} skipped (already there or empty)"
    )
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)


def cmd_export_json(args: argparse.Namespace, settings: Settings) -> int:
    """Export a user's sessions with every field as one JSON document (file or stdout)."""
    svc = open_service(settings)
    user = _user(svc, args.user)
    write_chunks(svc.export_json(user, args.session), args.output)
    if args.output and args.output != "-":
        print(f"wrote the export of {user.username!r} to {args.output}", file=sys.stderr)
    return 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    """Import a ChatGPT export (conversations.json or .zip) or a JSON export for a user."""
    svc = open_service(settings)
    user = _user(svc, args.user, create=args.create)
    with open(args.file, "rb") as source:
        report = svc.import_conversations(user, source)
    print_report(report, what=f"import into {user.username!r}")
    return 0


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    """Write every user's sessions, messages and feedback to a backup file (JSON lines)."""
    svc = open_service(settings)
    write_chunks(svc.backup(), args.output)
    if args.output != "-":
        print(f"wrote the backup to {args.output}", file=sys.stderr)
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    """Restore a backup file; what is already in the database is skipped (idempotent)."""
    svc = open_service(settings)
    with open(args.file, "rb") as source:
        report = svc.restore_backup(source)
    print_report(report, what="restore")
    return 0


def add_commands(sub: argparse._SubParsersAction, command: AddCommand) -> None:
    """export-json, import, backup, restore."""
    p = command(sub, "export-json", cmd_export_json)
    p.add_argument("--user", required=True)
    p.add_argument("--session", action="append", help="a session id (repeatable); default: all")
    p.add_argument("--output", help="file to write (default: stdout)")
    p = command(sub, "import", cmd_import)
    p.add_argument("--user", required=True)
    p.add_argument("--create", action="store_true", help="create the user row if it is missing")
    p.add_argument("file", help="conversations.json, a ChatGPT export .zip, or a JSON export")
    p = command(sub, "backup", cmd_backup)
    p.add_argument("--output", required=True, help="file to write ('-' for stdout)")
    p = command(sub, "restore", cmd_restore)
    p.add_argument("file", help="a file written by backup")
