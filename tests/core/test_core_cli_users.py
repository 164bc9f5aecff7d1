"""`python -m pa_core user ...`: the same admin service and audit log, through real processes."""

from __future__ import annotations

import pytest
from test_core_cli_auth import run_cli

from pa_core import ConversationService, auth
from pa_core.db import create_db_engine
from pa_core.errors import UserDisabled
from pa_core.service.audit import CLI_ACTOR


def test_user_commands_change_logins_and_are_audited(db_url, tmp_path):
    path = tmp_path / "auth.yaml"
    env = {"PA_DATABASE_URL": db_url, "PA_AUTH_CONFIG": str(path)}
    assert run_cli("user", "add", "root", "--admin", env=env, stdin="root-pass-1\n").returncode == 0
    added = run_cli("user", "add", "gina", "--password", "gina-pass-1", env=env)
    assert added.returncode == 0, added.stderr
    assert run_cli("user", "disable", "GINA", env=env).returncode == 0
    svc = ConversationService(create_db_engine(db_url))
    try:
        with pytest.raises(UserDisabled):
            auth.sync_user(svc, auth.load_auth_config(path), "gina")
        assert run_cli("user", "enable", "gina", env=env).returncode == 0
        assert run_cli("user", "role", "gina", "admin", env=env).returncode == 0
        reset = run_cli("user", "reset-password", "gina", env=env, stdin="gina-pass-2\n")
        assert reset.returncode == 0, reset.stderr
        config = auth.load_auth_config(path)
        assert auth.verify_password(config, "gina", "gina-pass-2")
        assert auth.sync_user(svc, config, "gina").role == "admin"
        root = svc.get_user("root")
        events = [(e.actor_username, e.action, e.target) for e in svc.audit_events(root)]
        assert events == [
            (CLI_ACTOR, "user.password_reset", "gina"),
            (CLI_ACTOR, "user.role", "gina"),
            (CLI_ACTOR, "user.enable", "gina"),
            (CLI_ACTOR, "user.disable", "gina"),
            (CLI_ACTOR, "user.add", "gina"),
            (CLI_ACTOR, "user.add", "root"),
        ]
    finally:
        svc.engine.dispose()
    last = run_cli("user", "role", "root", "user", env=env)
    assert last.returncode == 0  # gina is an admin too now
    alone = run_cli("user", "role", "gina", "user", env=env)
    assert alone.returncode == 2 and "last administrator" in alone.stderr
    assert "Traceback" not in alone.stderr
    nobody = run_cli("user", "disable", "nobody", env=env)
    assert nobody.returncode == 2 and "no user 'nobody'" in nobody.stderr
