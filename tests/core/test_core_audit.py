"""The audit log: one event per sensitive action, in its transaction, never content or secrets."""

from __future__ import annotations

import csv
import hashlib
import io
import json

import pytest
from sqlalchemy import text

from pa_core import ValidationError, auth
from pa_core.errors import PermissionDenied
from pa_core.service import audit
from pa_core.service.facade_admin import COMMAND_LINE

CONTENT = "SECRET-CONTENT-the-launch-code-is-4711"
PASSWORDS = ("root-Sup3r-Secret", "dave-Initial-Secret", "dave-Reset-Secret")


@pytest.fixture
def auth_path(tmp_path):
    return tmp_path / "auth.yaml"


@pytest.fixture
def root(svc, auth_path):
    return svc.admin_add_user(
        COMMAND_LINE, "root", PASSWORDS[0], auth_config=auth_path, role="admin"
    )


def _everything(svc, root, auth_path, tmp_path):
    """Every audited action once; returns (the API token issued, the user dave)."""
    dave = svc.admin_add_user(root, "dave", PASSWORDS[1], auth_config=auth_path)
    svc.admin_reset_password(root, "dave", PASSWORDS[2], auth_config=auth_path)
    svc.admin_set_role(root, "dave", "admin", auth_config=auth_path)
    svc.admin_set_role(root, "dave", "user", auth_config=auth_path)
    svc.admin_set_disabled(root, "dave", True)
    svc.admin_set_disabled(root, "dave", False)
    s = svc.create_session(user=dave, title="Title " + CONTENT)
    svc.add_message(s.session_id, user=dave, content=CONTENT)
    token, record = svc.issue_token(dave, name="ci")
    svc.revoke_token(dave, record.id)
    exported = "".join(svc.export_json(dave))
    svc.delete_session(s.session_id, user=dave)
    report = svc.import_conversations(dave, exported.encode())
    assert report.sessions_imported == 1
    backup = "".join(svc.backup(actor=root))
    assert CONTENT in backup
    svc.restore_backup(backup.encode(), actor=root)
    svc.admin_cleanup(root, 30)
    return token, dave


def test_each_action_is_one_event_with_actor_and_target(svc, root, auth_path, tmp_path):
    _everything(svc, root, auth_path, tmp_path)
    events = list(reversed(svc.audit_events(root, limit=100)))
    got = [(e.actor_username, e.action, e.target) for e in events]
    assert got == [
        (audit.CLI_ACTOR, "user.add", "root"),
        ("root", "user.add", "dave"),
        ("root", "user.password_reset", "dave"),
        ("root", "user.role", "dave"),
        ("root", "user.role", "dave"),
        ("root", "user.disable", "dave"),
        ("root", "user.enable", "dave"),
        ("dave", "token.create", "dave"),
        ("dave", "token.revoke", "dave"),
        ("dave", "import", "dave"),
        ("root", "backup", None),
        ("root", "restore", None),
        ("root", "cleanup", None),
    ]
    by_action = {e.action: e for e in events}
    assert by_action["user.role"].details == {"from": "admin", "to": "user"}
    assert by_action["import"].details == {
        "sessions_imported": 1,
        "sessions_skipped": 0,
        "messages_imported": 1,
        "warnings": 0,
    }
    assert by_action["restore"].details["sessions_skipped"] == 1
    assert by_action["cleanup"].details == {"older_than_days": 30, "sessions_removed": 0}
    assert by_action["backup"].details == {"users": 2}
    assert events[0].actor_user_id is None and events[1].actor_user_id == root.id
    assert all(e.at.tzinfo is not None for e in events)
    assert [e.id for e in events] == sorted(e.id for e in events)


def test_no_content_password_or_token_ever_appears(svc, root, auth_path, tmp_path, engine):
    token, _dave = _everything(svc, root, auth_path, tmp_path)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM audit_log")).all()
    dump = json.dumps([[str(v) for v in row] for row in rows])
    dump += "".join(svc.audit_csv(root))
    secrets = [CONTENT, "launch-code", token, token[3:], hashlib.sha256(token.encode()).hexdigest()]
    secrets += [*PASSWORDS]
    config = auth.load_auth_config(auth_path)
    secrets += [auth.user_entry(config, n)["password"] for n in ("root", "dave")]
    for secret in secrets:
        assert secret not in dump


def test_details_that_could_hold_a_secret_are_refused(svc, root, engine):
    for bad in (
        {"password": "x"},
        {"Token": "x"},
        {"content": "x"},
        {"note": "y" * 500},
        {"n": [1]},
    ):
        with pytest.raises(audit.UnsafeAuditDetail), engine.begin() as conn:
            audit.record(conn, actor=root, action="cleanup", details=bad)
    with pytest.raises(audit.UnsafeAuditDetail), engine.begin() as conn:
        audit.record(conn, actor=root, action="read.messages")
    assert len(svc.audit_events(root)) == 1  # only root's own creation


def test_paging_and_limits(svc, root):
    for i in range(5):
        svc.ensure_user(f"u{i}")
        svc.admin_set_disabled(root, f"u{i}", True)
    first = svc.audit_events(root, limit=4)
    assert [e.target for e in first] == ["u4", "u3", "u2", "u1"]
    rest = svc.audit_events(root, limit=4, before=first[-1])
    assert [e.target for e in rest] == ["u0", "root"]
    assert svc.audit_events(root, limit=4, before=first[-1].id) == rest
    with pytest.raises(ValidationError):
        svc.audit_events(root, limit=0)
    with pytest.raises(ValidationError):
        svc.audit_events(root, before="not a number")


def test_csv_export_is_guarded_and_complete(svc, root, monkeypatch):
    from pa_core.service import facade_admin

    monkeypatch.setattr(facade_admin, "AUDIT_CSV_BATCH", 2)  # several batches
    for name in ("@eve", "-mallory", "=cmd", "plain"):
        svc.ensure_user(name)
        svc.admin_set_disabled(root, name, True)
    rows = list(csv.reader(io.StringIO("".join(svc.audit_csv(root)))))
    assert rows[0] == list(audit.CSV_COLUMNS)
    targets = [r[4] for r in rows[1:]]
    assert targets == ["plain", "'=cmd", "'-mallory", "'@eve", "root"]
    assert rows[1][3] == "user.disable" and rows[-1][2] == audit.CLI_ACTOR
    assert json.loads(rows[-1][5]) == {"role": "admin", "existing_account": False}


def test_a_non_admin_reads_no_audit(svc, root, auth_path):
    carol = svc.admin_add_user(root, "carol", "carol-password-1", auth_config=auth_path)
    with pytest.raises(PermissionDenied):
        svc.audit_events(carol)
    with pytest.raises(PermissionDenied):
        svc.audit_csv(carol)


def test_an_action_that_fails_leaves_no_event(svc, root, auth_path):
    before = svc.audit_events(root)
    with pytest.raises(ValidationError):
        svc.admin_set_role(root, "root", "user", auth_config=auth_path)  # the last admin
    with pytest.raises(ValidationError):
        svc.admin_add_user(root, "root", "whatever-pw-1", auth_config=auth_path)
    assert svc.audit_events(root) == before
