"""Search grouped by conversation, highlighted parts, archived/pinned filters (both backends)."""

from __future__ import annotations

import pytest

from pa_core.service.search import MARK_END, MARK_START, snippet_parts


@pytest.fixture
def trips(svc, alice, bob):
    tokyo = svc.create_session(user=alice, title="Tokyo trip")
    for text in ("Flights to Tokyo in May", "Hotels near Tokyo station", "Tokyo ramen list"):
        svc.add_message(tokyo.session_id, user=alice, content=text)
    osaka = svc.create_session(user=alice, title="Osaka")
    svc.add_message(osaka.session_id, user=alice, content="Day trip from Osaka to Tokyo?")
    old = svc.create_session(user=alice, title="Old plans")
    svc.add_message(old.session_id, user=alice, content="Tokyo <b>2019</b> <script>x()</script>")
    svc.set_session_active(old.session_id, user=alice, active=False)
    svc.set_session_pinned(osaka.session_id, user=alice, pinned=True)
    theirs = svc.create_session(user=bob, title="Bob in Tokyo")
    svc.add_message(theirs.session_id, user=bob, content="Bob flies to Tokyo")
    return tokyo, osaka, old


def test_one_group_per_conversation_newest_first_with_marked_matches(svc, alice, trips):
    tokyo, osaka, old = trips
    groups = svc.search_conversations(alice, "tokyo", per_session=2)
    assert [g.session_id for g in groups] == [old.session_id, osaka.session_id, tokyo.session_id]
    first = groups[2]
    assert first.session_title == "Tokyo trip" and first.match_count == 3
    assert len(first.matches) == 2  # per_session
    assert first.matches[0].message_id > first.matches[1].message_id  # newest first
    parts = first.matches[0].parts
    assert ("Tokyo", True) in parts and any(not m for _t, m in parts)
    assert "".join(t for t, _m in parts) == "Tokyo ramen list"
    assert (groups[1].pinned, groups[0].is_active) == (True, False)
    hostile = "".join(t for t, _m in groups[0].matches[0].parts)
    assert (
        "Tokyo" in hostile
    )  # SQLite keeps the tags as text, PostgreSQL drops them; the page escapes
    assert svc.search_conversations(alice, "tokyo", limit=1)[0].session_id == old.session_id


def test_filters_pinned_and_archived(svc, alice, trips):
    tokyo, osaka, old = trips
    pinned = svc.search_conversations(alice, "tokyo", pinned=True)
    assert [g.session_id for g in pinned] == [osaka.session_id]
    archived = svc.search_conversations(alice, "tokyo", archived=True)
    assert [g.session_id for g in archived] == [old.session_id]
    active = svc.search_conversations(alice, "tokyo", archived=False)
    assert {g.session_id for g in active} == {tokyo.session_id, osaka.session_id}
    listed = svc.get_filtered_sessions(alice, archived=True)
    assert [s.session_id for s in listed] == [old.session_id]
    assert [s.session_id for s in svc.get_filtered_sessions(alice, pinned=True)] == [
        osaka.session_id
    ]
    both = svc.get_filtered_sessions(alice, archived=None)
    assert {s.session_id for s in both} == {tokyo.session_id, osaka.session_id, old.session_id}
    active_list = svc.get_filtered_sessions(alice)
    assert old.session_id not in {s.session_id for s in active_list}


def test_other_users_and_empty_queries(svc, alice, bob, trips):
    assert [g.session_title for g in svc.search_conversations(bob, "tokyo")] == ["Bob in Tokyo"]
    assert svc.search_conversations(alice, "   ") == []
    for weird in ("((", "' OR 1=1 --", "\x00", "NEAR(a b)"):
        assert isinstance(svc.search_conversations(alice, weird), list)


def test_search_messages_still_marks_matches_in_bold(svc, alice, trips):
    hits = svc.search_messages(alice, "ramen")
    assert len(hits) == 1 and "**ramen**" in hits[0].snippet
    assert MARK_START not in hits[0].snippet


def test_snippet_parts():
    s = f"a {MARK_START}b{MARK_END} c {MARK_START}d{MARK_END}"
    assert snippet_parts(s) == (("a ", False), ("b", True), (" c ", False), ("d", True))
    assert snippet_parts("plain") == (("plain", False),)
    assert snippet_parts(f"x{MARK_END}y") == (("xy", False),)
    assert snippet_parts("") == ()
