"""The sidebar's data: pinned and recent chats in a fixed number of statements (no N+1)."""

from __future__ import annotations

from support.query_count import count_statements
from ui import sidebar


def _fill(svc, user, count, *, prefix="chat"):
    return [svc.create_session(user=user, title=f"{prefix} {i}") for i in range(count)]


def test_chat_list_costs_the_same_with_3000_sessions(svc, engine, alice, bob):
    few = _fill(svc, alice, 3)
    svc.set_session_pinned(few[0].session_id, user=alice, pinned=True)
    with count_statements(engine) as small:
        data = sidebar.load_chat_list(svc, alice)
    assert [s.session_id for s in data.pinned] == [few[0].session_id]
    assert len(data.recent) == 2 and not data.more and not data.more_pinned

    many = _fill(svc, bob, 3000)
    for s in many[:40]:
        svc.set_session_pinned(s.session_id, user=bob, pinned=True)
    svc.create_session(user=bob)  # an empty untitled chat is never listed
    with count_statements(engine) as large:
        first = sidebar.load_chat_list(svc, bob)
    with count_statements(engine) as paged:
        third = sidebar.load_chat_list(svc, bob, pages=3)
    with count_statements(engine) as filtered:
        found = sidebar.load_chat_list(svc, bob, search="chat 2999")
    assert len(large) == len(paged) == len(filtered) == len(small)
    assert len(small) <= 4  # (BEGIN on SQLite) + one SELECT, for pinned and for recent
    assert len(first.pinned) == sidebar.PINNED_LIMIT and first.more_pinned
    assert len(first.recent) == sidebar.PAGE and first.more
    assert len(third.recent) == 3 * sidebar.PAGE and third.more
    assert [s.title for s in third.recent[:2]] == ["chat 2999", "chat 2998"]  # newest first
    assert all(not s.pinned for s in third.recent)
    assert [s.title for s in found.recent] == ["chat 2999"] and not found.pinned


def test_chat_list_pages_stop_at_the_service_cap(svc, alice):
    _fill(svc, alice, 30)
    data = sidebar.load_chat_list(svc, alice, pages=10_000)
    assert len(data.recent) == 30 and not data.more
    assert sidebar.MAX_RECENT + 1 <= 500  # one statement's LIMIT stays within the service's cap


def test_the_chat_pages_sidebar_lists_only_own_chats_and_a_click_opens_one(app_env):
    svc, alice, bob = app_env.svc, app_env.alice, app_env.bob
    mine = svc.create_session(user=alice, title="<b>Trip</b> *plans* ![x](http://e.invalid/p)")
    svc.add_message(mine.session_id, user=alice, content="hello")
    theirs = svc.create_session(user=bob, title="Bob's secret")
    at = app_env.app().run()
    assert not at.exception
    keys = [b.key for b in at.sidebar.button if b.key and b.key.startswith("pa-side-open-")]
    assert keys == [f"pa-side-open-{mine.session_id}"]  # bob's chat and the empty one: no
    label = at.sidebar.button(key=f"pa-side-open-{mine.session_id}").label
    assert "\\<b\\>Trip" in label and "\\!\\[x\\]" in label  # shown as text, never as markup
    assert "secret" not in " ".join(b.label for b in at.sidebar.button)
    at.sidebar.button(key=f"pa-side-open-{mine.session_id}").click().run()
    assert not at.exception
    assert at.query_params.get("session_id") == mine.session_id
    assert at.query_params.get("session_id") != theirs.session_id
