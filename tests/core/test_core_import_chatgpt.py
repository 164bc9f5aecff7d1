"""Import of ChatGPT exports: the active path, skipped nodes, placeholders, zip, idempotency."""

from __future__ import annotations

import io

import pytest

from pa_core import ImportReport
from support.chatgpt_export import (
    conversations_json,
    fixture_bytes,
    linear_conversation,
    zipped,
)

SOURDOUGH = [
    ("user", "My starter smells like acetone. Is it dead?"),
    ("assistant", "It is not dead: acetone means it is hungry. Feed it twice a day."),
    ("user", "[image]\nHere is a photo. How does it look?"),
    ("assistant", "Lots of bubbles: it looks active and healthy."),
]


def _by_title(svc, user):
    return {s.title: s for s in svc.get_user_sessions(user)}


def test_fixture_imports_the_active_path_oldest_first(svc, alice):
    report = svc.import_conversations(alice, fixture_bytes())
    assert isinstance(report, ImportReport)
    assert (report.sessions_imported, report.sessions_skipped) == (2, 1)
    assert report.messages_imported == 6
    sessions = _by_title(svc, alice)
    assert set(sessions) == {"Sourdough starter help", "Ünïcode & emoji 🍞"}
    sour = sessions["Sourdough starter help"]
    got = [(m.role, m.content) for m in svc.get_messages(sour.session_id, user=alice)]
    # system, hidden context, the tool call and its output are skipped; the regenerated first
    # answer is off the path; the image part is a placeholder
    assert got == SOURDOUGH
    assert sour.message_count == 4


def test_fixture_keeps_titles_and_original_times(svc, alice):
    svc.import_conversations(alice, fixture_bytes())
    sour = _by_title(svc, alice)["Sourdough starter help"]
    assert sour.created_at.isoformat() == "2024-06-01T10:00:00.250000+00:00"
    assert sour.last_activity_at.isoformat() == "2024-06-01T10:15:00.750000+00:00"
    msgs = svc.get_messages(sour.session_id, user=alice)
    assert msgs[0].created_at.isoformat() == "2024-06-01T10:00:10.250000+00:00"
    assert msgs[-1].created_at.isoformat() == "2024-06-01T10:01:00.250000+00:00"
    assert msgs[1].message_metadata["model"] == "gpt-4o"
    assert sour.session_metadata["import"]["source"] == "chatgpt"


def test_fixture_warnings_name_branches_and_missing_mapping(svc, alice):
    report = svc.import_conversations(alice, fixture_bytes())
    text = "\n".join(report.warnings)
    assert "1 message(s) on other branches" in text
    assert "'Broken: no mapping' has no messages" in text
    # the empty final assistant node of the second conversation is skipped, not a branch
    assert "Ünïcode" not in text


def test_reimport_imports_nothing(svc, alice):
    first = svc.import_conversations(alice, fixture_bytes())
    again = svc.import_conversations(alice, fixture_bytes())
    assert again.sessions_imported == 0 and again.messages_imported == 0
    assert again.sessions_skipped == first.sessions_imported + first.sessions_skipped
    assert len(svc.get_user_sessions(alice)) == 2


def test_zip_export_imports_like_the_json(svc, alice):
    report = svc.import_conversations(alice, io.BytesIO(zipped(fixture_bytes())))
    assert report.sessions_imported == 2 and report.messages_imported == 6
    # the same conversations again, now as JSON: already there
    assert svc.import_conversations(alice, fixture_bytes()).sessions_imported == 0


def test_zip_with_conversations_in_a_folder(svc, alice):
    data = zipped(fixture_bytes(), name="export-2024/conversations.json")
    assert svc.import_conversations(alice, data).sessions_imported == 2


def test_imported_text_is_searchable(svc, alice, bob):
    svc.import_conversations(alice, fixture_bytes())
    hits = svc.search_messages(alice, "acetone")
    assert {h.role for h in hits} == {"user", "assistant"}
    assert svc.search_messages(bob, "acetone") == []


def test_import_never_touches_other_users(svc, alice, bob):
    s = svc.create_session(user=bob, title="Bob's own")
    svc.add_message(s.session_id, user=bob, content="bob's message")
    svc.import_conversations(alice, fixture_bytes())
    report = svc.import_conversations(bob, fixture_bytes())
    assert report.sessions_imported == 2  # bob gets his own copies, not alice's sessions
    bob_ids = {x.session_id for x in svc.get_user_sessions(bob)}
    alice_ids = {x.session_id for x in svc.get_user_sessions(alice)}
    assert not bob_ids & alice_ids
    assert [m.content for m in svc.get_messages(s.session_id, user=bob)] == ["bob's message"]
    assert len(alice_ids) == 2


def test_progress_is_called_per_conversation(svc, alice):
    seen = []
    svc.import_conversations(alice, fixture_bytes(), progress=seen.append)
    assert seen == [1, 2, 3]


def test_source_as_text_and_as_file(svc, alice, bob, tmp_path):
    assert svc.import_conversations(alice, fixture_bytes().decode()).sessions_imported == 2
    path = tmp_path / "conversations.json"
    path.write_bytes(fixture_bytes())
    with open(path, "rb") as f:
        assert svc.import_conversations(bob, f).sessions_imported == 2


def test_missing_current_node_takes_newest_branch(svc, alice):
    conv = linear_conversation("c-1", "No current", ["q", "a", "q2", "a2"])
    del conv["current_node"]
    report = svc.import_conversations(alice, conversations_json(conv))
    assert report.messages_imported == 4
    assert any("newest branch" in w for w in report.warnings)


@pytest.mark.parametrize("count", [3, 250])
def test_many_conversations(svc, alice, count):
    convs = [linear_conversation(f"id-{i}", f"T{i}", ["q", "a"], 1.7e9 + i) for i in range(count)]
    report = svc.import_conversations(alice, conversations_json(*convs))
    assert (report.sessions_imported, report.messages_imported) == (count, 2 * count)
    assert len(svc.get_user_sessions(alice, limit=500)) == count
