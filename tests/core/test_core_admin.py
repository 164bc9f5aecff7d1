"""Administration through the service: users, roles, disabling, passwords, retention."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

import pa_core
from pa_core import ValidationError, auth
from pa_core.errors import PermissionDenied, UserDisabled
from pa_core.service.facade_admin import COMMAND_LINE
from support.aging import age_session
from support.query_count import count_statements


@pytest.fixture
def auth_path(tmp_path):
    return tmp_path / "conf" / "auth.yaml"


@pytest.fixture
def root(svc, auth_path):
    """The first admin, added from the command line (as `python -m pa_core user add` does)."""
    return svc.admin_add_user(
        COMMAND_LINE, "root", "root-password-1", auth_config=auth_path, role="admin"
    )


@pytest.fixture
def carol(svc, root, auth_path):
    return svc.admin_add_user(root, "carol", "carol-password-1", auth_config=auth_path)


def _config(path):
    return auth.load_auth_config(path)


def _audit_count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one()


def test_add_user_writes_a_bcrypt_login_and_a_row(svc, root, auth_path):
    user = svc.admin_add_user(
        root,
        "dave",
        "dave-password-1",
        auth_config=auth_path,
        display_name="Dave D",
        email="d@x.org",
    )
    config = _config(auth_path)
    entry = auth.user_entry(config, "dave")
    assert (
        auth.is_password_hash(entry["password"]) and "dave-password-1" not in auth_path.read_text()
    )
    assert auth.verify_password(config, "DAVE", "dave-password-1")
    assert entry["roles"] == ["user"] and entry["email"] == "d@x.org"
    assert oct(auth_path.stat().st_mode & 0o777) == "0o600"
    assert svc.get_user("dave") == user and user.display_name == "Dave D"
    assert auth.sync_user(svc, config, "dave").id == user.id  # logging in finds the same row


@pytest.mark.parametrize(
    ("name", "password", "message"),
    [
        ("root", "another-pw-1", "already exists"),
        ("ROOT", "another-pw-1", "already exists"),
        ("bad name", "another-pw-1", "Usernames use"),
        ("erin", "short", "at least 8"),
    ],
)
def test_add_user_refusals_change_nothing(svc, root, auth_path, engine, name, password, message):
    before, events = auth_path.read_bytes(), _audit_count(engine)
    with pytest.raises(ValidationError, match=message):
        svc.admin_add_user(root, name, password, auth_config=auth_path)
    assert auth_path.read_bytes() == before and _audit_count(engine) == events
    assert [u.username for u in svc.admin_users(root)] == ["root"]


def test_an_unwritable_credentials_file_rolls_the_row_and_audit_back(svc, root, tmp_path, engine):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    events = _audit_count(engine)
    with pytest.raises(auth.AuthConfigError, match="cannot be written"):
        svc.admin_add_user(root, "frank", "frank-password-1", auth_config=blocker / "auth.yaml")
    assert svc.get_user("frank") is None and _audit_count(engine) == events


def test_every_admin_method_refuses_a_non_admin(svc, root, carol, auth_path):
    calls = [
        lambda: svc.admin_users(carol),
        lambda: svc.admin_add_user(carol, "eve", "eve-password-1", auth_config=auth_path),
        lambda: svc.admin_reset_password(carol, "root", "new-password-1", auth_config=auth_path),
        lambda: svc.admin_set_disabled(carol, "root", True),
        lambda: svc.admin_set_role(carol, "carol", "admin", auth_config=auth_path),
        lambda: svc.retention_preview(carol, 30),
        lambda: svc.admin_cleanup(carol, 30),
        lambda: svc.audit_events(carol),
        lambda: svc.audit_csv(carol),
    ]
    before = auth_path.read_bytes()
    for call in calls:
        with pytest.raises(PermissionDenied, match="Only administrators"):
            call()
    assert auth_path.read_bytes() == before
    assert svc.get_user("eve") is None and svc.get_user("root").disabled_at is None


def test_a_stale_admin_record_does_not_count(svc, root, carol, auth_path):
    svc.admin_set_role(root, "carol", "admin", auth_config=auth_path)
    promoted = svc.get_user("carol")
    assert promoted.is_admin and auth.user_profile(_config(auth_path), "carol")["role"] == "admin"
    svc.admin_users(promoted)  # works while carol is an admin
    svc.admin_set_role(root, "carol", "user", auth_config=auth_path)
    with pytest.raises(PermissionDenied):
        svc.admin_users(promoted)  # the record still says admin; the row does not


def test_overview_counts_and_activity_in_one_query(svc, root, carol, engine):
    s1 = svc.create_session(user=carol)
    for i in range(3):
        svc.add_message(s1.session_id, user=carol, content=f"message {i}")
    s2 = svc.create_session(user=carol)
    svc.add_message(s2.session_id, user=carol, content="one more")
    rows = {u.username: u for u in svc.admin_users(root)}
    assert (rows["carol"].sessions, rows["carol"].messages) == (2, 4)
    assert (rows["root"].sessions, rows["root"].messages, rows["root"].last_activity_at) == (
        0,
        0,
        None,
    )
    last = svc.get_session(s2.session_id, user=carol).last_activity_at
    assert rows["carol"].last_activity_at == last and last.tzinfo is not None
    with count_statements(engine) as few:
        svc.admin_users(root)
    for i in range(8):
        u = svc.ensure_user(f"extra{i}")
        svc.add_message(svc.create_session(user=u).session_id, user=u, content="x")
    with count_statements(engine) as many:
        assert len(svc.admin_users(root)) == 10
    assert len(many) == len(few)  # not one query per user
    assert not any("content" in s for s in many)  # the overview never reads message text


def test_disable_blocks_every_login_path_and_enable_restores(svc, root, carol, auth_path):
    token, _record = svc.issue_token(carol, name="ci")
    disabled = svc.admin_set_disabled(root, "carol", True)
    assert disabled.is_disabled and svc.get_user("carol").is_disabled
    with pytest.raises(UserDisabled, match="disabled"):
        auth.sync_user(svc, _config(auth_path), "Carol")
    with pytest.raises(UserDisabled):
        svc.user_for_token(token)
    with pytest.raises(UserDisabled):
        auth.ensure_active(svc, carol)
    assert svc.admin_set_disabled(root, "carol", True) == disabled  # idempotent
    svc.admin_set_disabled(root, "carol", False)
    assert auth.sync_user(svc, _config(auth_path), "carol").id == carol.id
    assert svc.user_for_token(token).id == carol.id


def test_one_enabled_admin_always_stays(svc, root, carol, auth_path):
    with pytest.raises(ValidationError, match="own account"):
        svc.admin_set_disabled(root, "root", True)
    with pytest.raises(ValidationError, match="last administrator"):
        svc.admin_set_role(root, "root", "user", auth_config=auth_path)
    svc.admin_set_role(root, "carol", "admin", auth_config=auth_path)
    carol_admin = svc.get_user("carol")
    svc.admin_set_disabled(carol_admin, "root", True)
    with pytest.raises(ValidationError, match="last administrator"):
        svc.admin_set_role(carol_admin, "carol", "user", auth_config=auth_path)
    with pytest.raises(ValidationError, match="Unknown user role"):
        svc.admin_set_role(carol_admin, "carol", "owner", auth_config=auth_path)
    with pytest.raises(ValidationError, match="no user"):
        svc.admin_set_disabled(carol_admin, "nobody", True)


def test_role_change_survives_the_next_login(svc, root, carol, auth_path):
    svc.admin_set_role(root, "CAROL", "admin", auth_config=auth_path)
    assert auth.sync_user(svc, _config(auth_path), "carol").role == "admin"
    svc.admin_set_role(root, "carol", "user", auth_config=auth_path)
    assert auth.sync_user(svc, _config(auth_path), "carol").role == "user"


def test_reset_password(svc, root, carol, auth_path):
    svc.admin_reset_password(root, "carol", "brand-new-pw-9", auth_config=auth_path)
    config = _config(auth_path)
    assert auth.verify_password(config, "carol", "brand-new-pw-9")
    assert not auth.verify_password(config, "carol", "carol-password-1")
    with pytest.raises(ValidationError, match="at least 8"):
        svc.admin_reset_password(root, "carol", "short", auth_config=auth_path)


def test_retention_preview_then_cleanup(svc, root, carol, engine):
    sessions = [svc.create_session(user=carol) for _ in range(4)]
    for s in sessions:
        svc.add_message(s.session_id, user=carol, content="hello")
    for s in sessions[:3]:
        age_session(engine, s.session_id, 200)
    svc.set_session_pinned(sessions[0].session_id, user=carol, pinned=True)
    preview = svc.retention_preview(root, 90)
    assert (preview.days, preview.removable, preview.pinned_kept) == (90, 2, 1)
    assert (
        svc.get_session(sessions[1].session_id, user=carol) is not None
    )  # preview removes nothing
    assert svc.admin_cleanup(root, 90) == 2
    assert svc.retention_preview(root, 90).removable == 0
    assert svc.get_session(sessions[0].session_id, user=carol) is not None  # pinned stays
    with pytest.raises(ValidationError):
        svc.retention_preview(root, -1)


def test_logins_that_never_logged_in_are_listed(svc, root, auth_path):
    auth.add_user(auth_path, "Hank", "hank-password-1", name="Hank Hill", email="h@x.org")
    assert svc.get_user("Hank") is None
    rows = {u.username: u for u in svc.admin_users(root, auth_config=auth_path)}
    assert rows["Hank"].display_name == "Hank Hill" and rows["Hank"].sessions == 0
    svc.admin_set_disabled(root, "hank", True)  # any case, like a login
    with pytest.raises(UserDisabled):
        auth.sync_user(svc, _config(auth_path), "hank")
    assert len(svc.admin_users(root, auth_config=auth_path)) == 2  # nothing twice


def test_revision_0005_upgrades_a_populated_database(db_url, engine, svc):
    from pa_core.migrate import downgrade

    downgrade(db_url, "0004")
    now = datetime.now(UTC)
    stamp = now.replace(tzinfo=None) if engine.dialect.name == "sqlite" else now
    sid = "6f1c2a9e-0d7b-4c55-9a43-2f1e8d7c6b5a"
    with engine.begin() as conn:
        uid = conn.execute(
            text("INSERT INTO users (username, role, created_at) VALUES ('old', 'user', :t)"),
            {"t": stamp},
        ).lastrowid
        uid = uid or conn.execute(text("SELECT id FROM users WHERE username = 'old'")).scalar()
        conn.execute(
            text(
                "INSERT INTO conversation_sessions (session_id, user_id, is_active, message_count,"
                " created_at, last_activity_at, pinned) VALUES (:s, :u, true, 1, :t, :t, false)"
            ),
            {"s": sid, "u": uid, "t": stamp},
        )
        conn.execute(
            text(
                "INSERT INTO conversation_messages (session_id, user_id, role, content, has_error,"
                " created_at) VALUES (:s, :u, 'user', 'an ancient walrus', false, :t)"
            ),
            {"s": sid, "u": uid, "t": stamp},
        )
    engine.dispose()
    pa_core.migrate(db_url)
    old = svc.get_user("old")
    assert old is not None and old.disabled_at is None
    assert [h.session_id for h in svc.search_messages(old, "walrus")] == [sid]
    svc.add_message(sid, user=old, content="a fresh narwhal")  # the search triggers survived
    assert [h.session_id for h in svc.search_messages(old, "narwhal")] == [sid]
    root = svc.ensure_user("root", role="admin")
    overview = {u.username: u for u in svc.admin_users(root)}
    assert (overview["old"].sessions, overview["old"].messages) == (1, 2)
    assert svc.audit_events(root) == []
