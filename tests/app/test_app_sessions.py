"""Sessions page through AppTest: list, paging, search, open, rename, delete, export."""

from __future__ import annotations

from app_helpers import assert_no_exception, texts


def _titles(at) -> list[str]:
    return [
        m.value.strip("*").replace("\\", "") for m in at.main.markdown if m.value.startswith("**")
    ]


def _csv_labels(at) -> list[str]:
    return [b.label for b in at.download_button if b.key == "pa-sessions-csv"]


def _seed(app_env, n: int, *, messages: int = 1):
    svc, alice = app_env.svc, app_env.alice
    made = []
    for i in range(n):
        s = svc.create_session(user=alice, title=f"Session {i:02d}")
        for j in range(messages):
            svc.add_message(s.session_id, user=alice, role="user", content=f"note {i} part {j}")
        made.append(s)
    return made


def test_lists_newest_first_with_counts_and_pages_by_keyset(app_env):
    made = _seed(app_env, 25)
    app_env.svc.add_message(made[3].session_id, user=app_env.alice, content="bump")
    at = app_env.page("sessions")
    assert_no_exception(at)
    first = _titles(at)
    assert first[0] == "Session 03"  # most recent activity first
    # 20 rows per page, all used: the empty chat the Chat page opened first is left out in SQL.
    assert first[1:] == [f"Session {i:02d}" for i in range(24, 5, -1)]
    assert len(first) == 20
    assert any("2 message(s)" in c.value for c in at.caption)
    assert at.button(key="pa-prev").disabled
    at.button(key="pa-next").click().run()
    second = _titles(at)
    assert second == [f"Session {i:02d}" for i in (5, 4, 2, 1, 0)]
    assert at.button(key="pa-next").disabled
    at.button(key="pa-prev").click().run()
    assert _titles(at) == first


def test_only_own_sessions_are_listed(app_env):
    _seed(app_env, 2)
    s = app_env.svc.create_session(user=app_env.bob, title="Bob private")
    app_env.svc.add_message(s.session_id, user=app_env.bob, content="bob secret words")
    at = app_env.page("sessions")
    assert "Bob private" not in texts(at)
    at.text_input(key="q").set_value("secret").run()
    assert "bob secret" not in texts(at)
    assert "No message matches" in texts(at)


def test_search_shows_snippets_and_opens_the_session(app_env):
    _seed(app_env, 3)
    s = app_env.svc.create_session(user=app_env.alice, title="Holiday")
    app_env.svc.add_message(
        s.session_id, user=app_env.alice, content="Book the ferry to Santorini in June"
    )
    at = app_env.page("sessions")
    at.text_input(key="q").set_value("Santorini").run()
    assert_no_exception(at)
    assert any("Santorini" in m.value and "**" in m.value for m in at.markdown)
    hit_buttons = [b for b in at.button if b.key and b.key.startswith("pa-hit-")]
    assert len(hit_buttons) == 1
    hit_buttons[0].click().run()
    assert_no_exception(at)
    assert at.query_params.get("session_id") == s.session_id
    assert "Holiday" in [x.value for x in at.subheader]  # now on the Chat page
    assert "Book the ferry" in texts(at)


def test_open_button_goes_to_chat_with_session_id(app_env):
    made = _seed(app_env, 2)
    at = app_env.page("sessions")
    at.button(key=f"pa-open-{made[0].session_id}").click().run()
    assert_no_exception(at)
    assert at.query_params.get("session_id") == made[0].session_id
    assert "note 0 part 0" in texts(at)


def test_rename(app_env):
    made = _seed(app_env, 2)
    sid = made[1].session_id
    at = app_env.page("sessions")
    at.button(key=f"pa-ren-{sid}").click().run()
    [t for t in at.text_input if t.label == "New title"][0].set_value("Better name")
    [b for b in at.button if b.label == "Save"][0].click().run()
    assert_no_exception(at)
    assert app_env.svc.get_session(sid, user=app_env.alice).title == "Better name"
    assert "Better name" in _titles(at)


def test_delete_asks_first_then_deletes_for_real(app_env):
    made = _seed(app_env, 2, messages=3)
    sid = made[0].session_id
    at = app_env.page("sessions")
    at.button(key=f"pa-del-{sid}").click().run()
    assert any("cannot be undone" in w.value for w in at.warning)
    at.button(key=f"pa-del-no-{sid}").click().run()
    assert app_env.svc.get_session(sid, user=app_env.alice) is not None
    assert not at.warning

    at.button(key=f"pa-del-{sid}").click().run()
    at.button(key=f"pa-del-yes-{sid}").click().run()
    assert_no_exception(at)
    assert app_env.svc.get_session(sid, user=app_env.alice) is None
    assert "Session 00" not in _titles(at)
    assert app_env.svc.count_messages(app_env.alice, [sid]) == 0


def test_export_button_counts_all_or_selected(app_env):
    made = _seed(app_env, 3, messages=2)
    at = app_env.page("sessions")
    assert _csv_labels(at) == ["Download CSV (all sessions)"]
    assert any("6 message(s)" in c.value for c in at.caption)
    at.checkbox(key=f"pa-sel-{made[1].session_id}").check().run()
    assert_no_exception(at)
    assert _csv_labels(at) == ["Download CSV (1 selected session)"]
    assert any("2 message(s)" in c.value for c in at.caption)


def test_large_export_is_prepared_with_progress(app_env, monkeypatch):
    from ui import exports

    made = _seed(app_env, 2, messages=4)
    monkeypatch.setattr(exports, "LAZY_EXPORT_MAX", 5)
    at = app_env.page("sessions")
    assert not _csv_labels(at)
    prepare = at.button(key="pa-sessions-prepare")
    assert prepare.label == "Prepare CSV of 8 messages"
    prepare.click().run()
    assert_no_exception(at)
    assert _csv_labels(at) == ["Download CSV (all sessions)"]
    # A message added after preparing makes the prepared file stale: prepare again.
    app_env.svc.add_message(made[0].session_id, user=app_env.alice, content="later")
    at.run()
    assert not _csv_labels(at)
    assert at.button(key="pa-sessions-prepare").label == "Prepare CSV of 9 messages"


def test_empty_state(app_env):
    at = app_env.page("sessions")
    assert_no_exception(at)
    assert "No conversations yet" in texts(at)  # the empty chat opened first is not listed
    assert _titles(at) == []


def _hits(at) -> list[str]:
    return [b.key for b in at.button if b.key and b.key.startswith("pa-hit-")]


def test_search_groups_by_conversation_highlights_and_escapes(app_env):
    svc, alice = app_env.svc, app_env.alice
    trip = svc.create_session(user=alice, title="Kyoto <b>trip</b>")
    for text in ("Temples in Kyoto", "Kyoto by train", "Kyoto food", "More Kyoto"):
        svc.add_message(trip.session_id, user=alice, content=text)
    other = svc.create_session(user=alice, title="Hostile")
    svc.add_message(
        other.session_id,
        user=alice,
        content="Kyoto <img src=x onerror=alert(1)> [click](http://evil.example) **loud**",
    )
    at = app_env.page("sessions", query={"q": "kyoto"})  # a shared link with ?q=
    assert_no_exception(at)
    assert at.text_input(key="q").value == "kyoto"
    assert _hits(at) == [f"pa-hit-{other.session_id}", f"pa-hit-{trip.session_id}"]
    shown = texts(at)
    assert "2 conversations match" in shown
    assert ":orange-background[**Kyoto**]" in shown
    assert "+ 1 more matching message" in shown  # 4 matches, 3 shown
    assert "\\<b\\>trip\\</b\\>" in shown  # the title escaped
    hostile = [m.value for m in at.markdown if "onerror" in m.value or "evil" in m.value]
    assert hostile and all("\\<" in v or "<" not in v for v in hostile)
    assert all("](http" not in v for v in hostile)  # the link is text, not a link
    assert not at.session_state["pa_sessions_selected"]  # no list (and no export) while searching


def test_archived_and_pinned_filters(app_env):
    svc, alice = app_env.svc, app_env.alice
    made = _seed(app_env, 3)
    svc.set_session_active(made[0].session_id, user=alice, active=False)
    svc.set_session_pinned(made[1].session_id, user=alice, pinned=True)
    at = app_env.page("sessions")
    assert [t.split("**")[0] for t in _titles(at)] == ["Session 02", "Session 01"]
    at.segmented_control(key="show").set_value("Archived").run()
    assert_no_exception(at)
    assert _titles(at) == ["Session 00** :gray-badge[:material/archive: Archived]"]
    at.segmented_control(key="show").set_value("All").run()
    assert len(_titles(at)) == 3
    at.toggle(key="pinned").set_value(True).run()
    assert [t.split("**")[0] for t in _titles(at)] == ["Session 01"]
    # unpin from the row: the pinned-only list is empty then
    at.button(key=f"pa-pin-{made[1].session_id}").click().run()
    assert_no_exception(at)
    assert not svc.get_session(made[1].session_id, user=alice).pinned
    assert "No pinned conversations" in texts(at)
    # archive from the row
    at.toggle(key="pinned").set_value(False).run()
    at.segmented_control(key="show").set_value("Active").run()
    at.button(key=f"pa-arch-{made[2].session_id}").click().run()
    assert svc.get_session(made[2].session_id, user=alice).is_active is False
    assert [t.split("**")[0] for t in _titles(at)] == ["Session 01"]
