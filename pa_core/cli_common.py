"""What the command-line modules share: the command signature, the service and the auth path."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from pa_core.config import Settings
from pa_core.migrate import migrate
from pa_core.service import ConversationService

Command = Callable[[argparse.Namespace, Settings], int]
AddCommand = Callable[[argparse._SubParsersAction, str, Command], argparse.ArgumentParser]


def open_service(settings: Settings) -> ConversationService:
    """The service over the settings' database, migrated first."""
    url = settings.resolved_database_url
    migrate(url)
    return ConversationService.from_url(url)


def auth_path(args: argparse.Namespace, settings: Settings) -> Path:
    """--auth-config, else PA_AUTH_CONFIG."""
    return Path(args.auth_config or settings.auth_config)
