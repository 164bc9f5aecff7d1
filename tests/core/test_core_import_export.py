"""The lossless JSON export and its import: format, round trips on and across backends."""

from __future__ import annotations

import json
import shutil

import pytest

from pa_core.errors import SessionNotFound
from pa_core.service import export_json as export_module
from pa_core.textsafe import NUL_REPLACEMENT
from support.transfer_data import seed_rich, service_for, without_export_time

SESSION_KEYS = [
    "session_id", "title", "description", "context_data", "session_metadata", "is_active",
    "pinned", "created_at", "last_activity_at", "messages",
]  # fmt: skip
MESSAGE_KEYS = [
    "role", "content", "tools_used", "processing_time_ms", "token_count", "has_error",
    "error_message", "message_metadata", "feedback", "feedback_comment", "client_id",
    "created_at",
]  # fmt: skip


def _export(svc, user, session_ids=None) -> str:
    return "".join(svc.export_json(user, session_ids))


def test_export_format_has_every_field(svc, alice):
    sids = seed_rich(svc, alice)
    doc = json.loads(_export(svc, alice))
    assert list(doc) == ["format", "version", "exported_at", "username", "sessions"]
    assert (doc["format"], doc["version"], doc["username"]) == (
        "personal-assistant-export",
        1,
        "alice",
    )
    assert doc["exported_at"].endswith("+00:00")
    assert [s["session_id"] for s in doc["sessions"]] == sids
    first = doc["sessions"][0]
    assert list(first) == SESSION_KEYS
    assert all(list(m) == MESSAGE_KEYS for s in doc["sessions"] for m in s["messages"])
    assert first["pinned"] is True and first["context_data"] == {"a": [1, 2], "b": 1}
    reply = first["messages"][1]
    assert reply["feedback"] == -1 and reply["feedback_comment"] == "too short"
    assert reply["tools_used"] == ["calculator", "clock"] and reply["token_count"] == 345
    assert NUL_REPLACEMENT in reply["content"]
    assert first["messages"][2]["has_error"] is True
    assert doc["sessions"][1]["is_active"] is False and doc["sessions"][2]["messages"] == []


def test_export_of_chosen_sessions_and_isolation(svc, alice, bob):
    sids = seed_rich(svc, alice)
    bob_sid = svc.create_session(user=bob, title="bob").session_id
    doc = json.loads(_export(svc, alice, [sids[1], bob_sid, "not-a-uuid"]))
    assert [s["session_id"] for s in doc["sessions"]] == [sids[1]]
    assert json.loads(_export(svc, bob, sids))["sessions"] == []
    assert json.loads(_export(svc, alice, []))["sessions"] == []


def test_export_streams_in_batches(svc, alice, monkeypatch):
    monkeypatch.setattr(export_module, "SESSION_BATCH", 2)
    monkeypatch.setattr(export_module, "MESSAGE_BATCH", 3)
    monkeypatch.setattr(export_module, "MESSAGES_PER_CHUNK", 2)
    for i in range(5):
        s = svc.create_session(user=alice, title=f"s{i}")
        for j in range(i):
            svc.add_message(s.session_id, user=alice, content=f"m{i}.{j}")
    chunks = list(svc.export_json(alice))
    assert len(chunks) > 7
    doc = json.loads("".join(chunks))
    got = [[m["content"] for m in s["messages"]] for s in doc["sessions"]]
    assert got == [[f"m{i}.{j}" for j in range(i)] for i in range(5)]


def test_round_trip_into_a_fresh_database(svc, alice, tmp_path, sqlite_template):
    seed_rich(svc, alice)
    exported = _export(svc, alice)
    fresh_path = tmp_path / "fresh.db"
    shutil.copy(sqlite_template, fresh_path)
    other = service_for(f"sqlite:///{fresh_path}")
    carol = other.ensure_user("alice")
    report = other.import_conversations(carol, exported)
    assert (report.sessions_imported, report.sessions_skipped) == (3, 0)
    assert report.messages_imported == 4 and report.warnings == []
    assert without_export_time(_export(other, carol)) == without_export_time(exported)
    again = other.import_conversations(carol, exported)
    assert (again.sessions_imported, again.sessions_skipped, again.messages_imported) == (0, 3, 0)


def test_round_trip_sqlite_to_postgresql_and_back(tmp_path, sqlite_template, pg_databases):
    path = tmp_path / "a.db"
    shutil.copy(sqlite_template, path)
    lite = service_for(f"sqlite:///{path}")
    pg_url = pg_databases.migrated()
    pg = service_for(pg_url)
    user = lite.ensure_user("alice")
    seed_rich(lite, user)
    from_lite = _export(lite, user)
    pg_user = pg.ensure_user("alice")
    assert pg.import_conversations(pg_user, from_lite).sessions_imported == 3
    from_pg = _export(pg, pg_user)
    assert without_export_time(from_pg) == without_export_time(from_lite)
    # byte for byte, apart from the export time
    strip = lambda text: text.split('"username"', 1)[1]  # noqa: E731
    assert strip(from_pg) == strip(from_lite)
    pg_databases.drop(pg_url)


def test_imported_sessions_keep_counts_and_order(svc, alice, bob):
    sids = seed_rich(svc, alice)
    svc.import_conversations(bob, _export(svc, alice))
    bob_sessions = {s.session_id: s for s in svc.get_user_sessions(bob, include_inactive=True)}
    assert len(bob_sessions) == 3 and not set(bob_sessions) & set(sids)
    pinned = [s for s in bob_sessions.values() if s.pinned]
    assert len(pinned) == 1 and pinned[0].message_count == 3
    assert pinned[0].title == "Garden plans"


def test_foreign_session_id_gets_a_new_id_and_never_merges(svc, alice, bob):
    sids = seed_rich(svc, alice)
    exported = _export(svc, alice)
    report = svc.import_conversations(bob, exported)
    assert report.sessions_imported == 3
    for sid in sids:  # alice's sessions are untouched, bob cannot see them
        assert svc.get_session(sid, user=bob) is None
    assert svc.get_session(sids[0], user=alice, include_messages=True).message_count == 3
    assert [m.content for m in svc.get_messages(sids[0], user=alice)][0].startswith("How deep")
    # and a re-import by bob finds his copies again
    assert svc.import_conversations(bob, exported).sessions_imported == 0


def test_own_session_id_already_there_is_skipped(svc, alice):
    seed_rich(svc, alice)
    report = svc.import_conversations(alice, _export(svc, alice))
    assert (report.sessions_imported, report.sessions_skipped) == (0, 3)


def test_markdown_export(svc, alice, bob):
    sids = seed_rich(svc, alice)
    text = svc.export_markdown(alice, sids[0])
    assert text.startswith("# Garden plans\n")
    assert "### User · " in text and "### Assistant · " in text and " UTC" in text
    assert "Tools used: `calculator`, `clock`" in text
    assert "Error: HTTP 500" in text
    assert "Feedback: rated not helpful — too short" in text
    assert text.index("How deep") < text.index("About 10 cm") < text.index("The model failed")
    assert svc.export_markdown(alice, sids[1]).startswith("# Untitled conversation")
    with pytest.raises(SessionNotFound):
        svc.export_markdown(bob, sids[0])
    with pytest.raises(SessionNotFound):
        svc.export_markdown(alice, "nope")
