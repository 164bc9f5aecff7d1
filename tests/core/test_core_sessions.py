"""Sessions: create, get, list with keyset paging, rename, delete, isolation."""

from __future__ import annotations

import uuid

import pytest

from pa_core import SessionNotFound, ValidationError


def test_create_and_get_session(svc, alice):
    s = svc.create_session(user=alice, title="Plans", context_data={"topic": "trip"})
    got = svc.get_session(s.session_id, user=alice)
    assert got.session_id == s.session_id
    assert got.title == "Plans"
    assert got.context_data == {"topic": "trip"}
    assert got.message_count == 0
    assert got.messages is None
    assert got.is_active is True
    assert got.created_at.tzinfo is not None and got.created_at.utcoffset().total_seconds() == 0
    assert uuid.UUID(s.session_id).version == 4


def test_get_session_with_messages(svc, alice):
    s = svc.create_session(user=alice)
    svc.add_message(s.session_id, user=alice, role="user", content="one")
    svc.add_message(s.session_id, user=alice, role="assistant", content="two")
    got = svc.get_session(s.session_id, user=alice, include_messages=True)
    assert [m.content for m in got.messages] == ["one", "two"]
    assert got.message_count == 2
    assert got.last_activity_at >= got.created_at


@pytest.mark.parametrize("bad", ["", "not-a-uuid", "x" * 500, None, 42, str(uuid.uuid4())])
def test_get_session_missing_or_invalid_is_none(svc, alice, bad):
    assert svc.get_session(bad, user=alice) is None


def test_foreign_session_indistinguishable_from_missing(svc, alice, bob):
    s = svc.create_session(user=alice, title="secret")
    svc.add_message(s.session_id, user=alice, content="my secret")
    assert svc.get_session(s.session_id, user=bob) is None
    assert svc.get_session(s.session_id, user=bob, include_messages=True) is None
    for call in (
        lambda: svc.get_messages(s.session_id, user=bob),
        lambda: svc.add_message(s.session_id, user=bob, content="intrusion"),
        lambda: svc.rename_session(s.session_id, user=bob, title="mine"),
        lambda: svc.delete_session(s.session_id, user=bob),
    ):
        with pytest.raises(SessionNotFound) as foreign:
            call()
        assert "secret" not in str(foreign.value)
    # the same error text as a session that never existed
    with pytest.raises(SessionNotFound) as missing:
        svc.get_messages(str(uuid.uuid4()), user=bob)
    assert str(missing.value) == str(foreign.value)
    # nothing changed for alice
    got = svc.get_session(s.session_id, user=alice, include_messages=True)
    assert got.title == "secret" and [m.content for m in got.messages] == ["my secret"]
    assert svc.get_user_sessions(bob) == []
    assert svc.search_messages(bob, "secret") == []
    assert list(svc.export_csv(bob, [s.session_id]))[1:] == []


def test_get_or_create_session(svc, alice, bob):
    first = svc.get_or_create_session(None, user=alice)
    again = svc.get_or_create_session(first.session_id, user=alice)
    assert again.session_id == first.session_id
    other = svc.get_or_create_session(first.session_id, user=bob)
    assert other.session_id != first.session_id and other.user_id == bob.id
    invalid = svc.get_or_create_session("garbage", user=alice)
    assert invalid.session_id not in (first.session_id, other.session_id)
    unknown_id = str(uuid.uuid4())
    fresh = svc.get_or_create_session(unknown_id, user=alice)
    assert fresh.session_id != unknown_id
    assert svc.get_session(first.session_id, user=bob) is None


def test_user_sessions_newest_activity_first_with_counts(svc, alice, bob):
    a = svc.create_session(user=alice, title="a")
    b = svc.create_session(user=alice, title="b")
    c = svc.create_session(user=alice, title="c")
    svc.create_session(user=bob, title="bob's")
    svc.add_message(a.session_id, user=alice, content="bump a")
    svc.add_message(a.session_id, user=alice, content="bump a again")
    listed = svc.get_user_sessions(alice)
    assert [s.title for s in listed] == ["a", "c", "b"]
    assert [s.message_count for s in listed] == [2, 0, 0]
    assert all(s.user_id == alice.id for s in listed)
    del b, c


def test_user_sessions_keyset_pagination(svc, alice):
    created = [svc.create_session(user=alice, title=f"s{i:02d}") for i in range(23)]
    seen, before = [], None
    while True:
        page = svc.get_user_sessions(alice, limit=5, before=before)
        if not page:
            break
        seen.extend(s.session_id for s in page)
        before = page[-1]
    assert len(seen) == 23 and len(set(seen)) == 23
    assert seen == [s.session_id for s in reversed(created)]


def test_user_sessions_search_titles_and_inactive(svc, alice):
    svc.create_session(user=alice, title="Budget 2027")
    svc.create_session(user=alice, title="Holiday 100% fun")
    old = svc.create_session(user=alice, title="Old budget")
    svc.set_session_active(old.session_id, user=alice, active=False)
    assert [s.title for s in svc.get_user_sessions(alice, search="budget")] == ["Budget 2027"]
    both = svc.get_user_sessions(alice, search="BUDGET", include_inactive=True)
    assert {s.title for s in both} == {"Budget 2027", "Old budget"}
    assert [s.title for s in svc.get_user_sessions(alice, search="100%")] == ["Holiday 100% fun"]
    assert [s.title for s in svc.get_user_sessions(alice, search="%")] == ["Holiday 100% fun"]
    assert svc.get_user_sessions(alice, search="_") == []


def test_user_sessions_search_with_a_nul_character(svc, alice):
    # titles keep NUL as U+FFFD on both backends; a search with NUL finds them (PostgreSQL would
    # refuse the NUL in the pattern)
    svc.create_session(user=alice, title="Plan\x00B")
    svc.create_session(user=alice, title="Plan C")
    assert [s.title for s in svc.get_user_sessions(alice, search="n\x00b")] == ["Plan\ufffdB"]
    assert svc.get_user_sessions(alice, search="\x00") != []


def test_rename_session(svc, alice):
    s = svc.create_session(user=alice)
    renamed = svc.rename_session(s.session_id, user=alice, title="  New   name ")
    assert renamed.title == "New name"
    assert svc.get_session(s.session_id, user=alice).title == "New name"
    with pytest.raises(ValidationError, match="too long"):
        svc.rename_session(s.session_id, user=alice, title="x" * 256)
    with pytest.raises(ValidationError):
        svc.rename_session(s.session_id, user=alice, title="   ")
    svc.rename_session(s.session_id, user=alice, title="é" * 255)


def test_title_if_untitled_never_overwrites(svc, alice):
    s = svc.create_session(user=alice)
    assert svc.set_session_title_if_untitled(s.session_id, user=alice, title="auto") is True
    svc.rename_session(s.session_id, user=alice, title="mine")
    assert svc.set_session_title_if_untitled(s.session_id, user=alice, title="auto2") is False
    assert svc.get_session(s.session_id, user=alice).title == "mine"


def test_delete_session_removes_messages(svc, alice, engine):
    s = svc.create_session(user=alice)
    keep = svc.create_session(user=alice)
    for i in range(3):
        svc.add_message(s.session_id, user=alice, content=f"gone {i}")
    svc.add_message(keep.session_id, user=alice, content="kept")
    svc.delete_session(s.session_id, user=alice)
    assert svc.get_session(s.session_id, user=alice) is None
    with pytest.raises(SessionNotFound):
        svc.delete_session(s.session_id, user=alice)
    from sqlalchemy import text

    with engine.connect() as conn:
        left = conn.execute(text("SELECT content FROM conversation_messages")).scalars().all()
    assert left == ["kept"]
    assert svc.search_messages(alice, "gone") == []
    assert [h.snippet for h in svc.search_messages(alice, "kept")]


def test_records_are_read_only(svc, alice):
    s = svc.create_session(user=alice)
    with pytest.raises(AttributeError):
        s.title = "changed"


def test_ensure_user_idempotent_and_updates(svc):
    u1 = svc.ensure_user("carol")
    u2 = svc.ensure_user("carol", display_name="Carol", role="admin")
    assert u1.id == u2.id and u2.role == "admin" and u2.display_name == "Carol"
    assert svc.ensure_user("carol").role == "admin"
    with pytest.raises(ValidationError):
        svc.ensure_user("dave", role="superuser")
    with pytest.raises(ValidationError):
        svc.ensure_user("   ")


def test_bad_user_argument(svc):
    with pytest.raises(ValidationError):
        svc.create_session(user="alice")


def test_pool_exhaustion_is_a_storage_error(db_url):
    """No free connection within the pool timeout reads as 'database not available'."""
    import pa_core
    from pa_core.db import create_db_engine

    engine = create_db_engine(db_url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    try:
        svc = pa_core.ConversationService(engine)
        user = svc.ensure_user("pool")
        with svc.transaction(), pytest.raises(pa_core.StorageError):
            svc.get_user_sessions(user)
        assert svc.get_user_sessions(user) == []
    finally:
        engine.dispose()


def test_user_sessions_can_leave_out_unused_chats(svc, alice):
    used = svc.create_session(user=alice)
    svc.add_message(used.session_id, user=alice, content="hi")
    titled = svc.create_session(user=alice, title="kept for later")
    for _ in range(3):
        svc.create_session(user=alice)
    assert len(svc.get_user_sessions(alice)) == 5
    page = svc.get_user_sessions(alice, limit=2, include_empty=False)
    assert [s.session_id for s in page] == [titled.session_id, used.session_id]
