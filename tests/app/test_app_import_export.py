"""Import and JSON/Markdown export: the Sessions page's uploader and downloads, the Chat menu."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

from app_helpers import assert_no_exception, texts

from support import chatgpt_sample
from support.export_check import assert_same_json_export
from ui import import_export as ie

ZIP_MIME = "application/zip"


def _upload(at, name: str, data: bytes, mime: str = "application/json"):
    """Put a file in the Sessions page's uploader and press Import."""
    generation = at.session_state.get(ie.UPLOADER_KEY, 0)
    at.file_uploader(key=f"pa-import-file-{generation}").set_value((name, data, mime)).run()
    assert_no_exception(at)
    assert not at.button(key="pa-import-go").disabled
    return at.button(key="pa-import-go").click().run()


def _titles(at) -> list[str]:
    return [
        m.value.strip("*").replace("\\", "") for m in at.main.markdown if m.value.startswith("**")
    ]


def test_import_of_a_chatgpt_export_shows_the_report_and_lists_the_chats(app_env):
    at = app_env.page("sessions")
    assert at.button(key="pa-import-go").disabled  # nothing uploaded yet
    _upload(at, "conversations.json", chatgpt_sample.conversations_json())
    assert_no_exception(at)
    assert [s.value for s in at.success] == [
        "Imported 2 conversation(s) with 6 message(s) from conversations\\.json."
    ]
    assert {"Weekend in Lisbon", "Sourdough starter"} <= set(_titles(at))
    sessions = app_env.svc.get_user_sessions(app_env.alice, include_empty=False)
    lisbon = next(s for s in sessions if s.title == "Weekend in Lisbon")
    contents = [m.content for m in app_env.svc.get_messages(lisbon.session_id, user=app_env.alice)]
    assert contents == [text for _, text in chatgpt_sample.LISBON]
    # A fresh, empty uploader: the uploaded bytes are not kept for the rest of the session.
    assert at.session_state[ie.UPLOADER_KEY] == 1
    assert at.button(key="pa-import-go").disabled
    _assert_small_state(at)
    # Bob sees none of it.
    assert app_env.svc.get_user_sessions(app_env.bob, include_empty=False) == []


def test_reimport_of_the_zip_imports_nothing_and_says_so(app_env):
    at = app_env.page("sessions")
    _upload(at, "chatgpt-export.zip", chatgpt_sample.export_zip(), ZIP_MIME)
    assert "Imported 2 conversation(s)" in at.success[0].value
    _upload(at, "chatgpt-export.zip", chatgpt_sample.export_zip(), ZIP_MIME)
    assert not at.success
    assert [i.value for i in at.info] == [
        "Nothing new in chatgpt\\-export\\.zip: 2 conversation(s) were imported before."
    ]
    assert len(app_env.svc.get_user_sessions(app_env.alice, include_empty=False)) == 2


def test_the_warnings_of_an_import_are_listed(app_env):
    at = app_env.page("sessions")
    _upload(at, "conversations.json", chatgpt_sample.conversations_json())
    report = at.session_state[ie.REPORT_KEY]
    assert report["warnings_total"] >= 1  # the regenerated replies left off the active path
    assert any("warning(s)" in e.label for e in at.expander)


def test_a_broken_or_foreign_file_is_a_readable_error_and_imports_nothing(app_env):
    at = app_env.page("sessions")
    cases = [
        ("notes.json", b"this is not json {", "application/json"),
        ("other.json", json.dumps({"hello": "world"}).encode(), "application/json"),
        ("empty.zip", _zip_without_conversations(), ZIP_MIME),
        ("fake.zip", b"PK\x03\x04 not really a zip", ZIP_MIME),
    ]
    for name, data, mime in cases:
        _upload(at, name, data, mime)
        assert_no_exception(at)
        errors = [e.value for e in at.error]
        assert len(errors) == 1, (name, errors)
        shown = name.replace(".", "\\.")  # md_text escapes the file name
        assert errors[0].startswith(f"Nothing was imported from {shown}: "), errors[0]
        assert "Traceback" not in errors[0] and 'File "' not in errors[0]
    assert app_env.svc.get_user_sessions(app_env.alice, include_empty=False) == []


def test_sessions_page_offers_csv_json_and_markdown(app_env):
    made = []
    for i in range(2):
        s = app_env.svc.create_session(user=app_env.alice, title=f"Trip {i}")
        app_env.svc.add_message(s.session_id, user=app_env.alice, content=f"hello {i}")
        made.append(s)
    at = app_env.page("sessions")
    labels = {b.key: b.label for b in at.download_button}
    assert labels["pa-sessions-csv"] == "Download CSV (all sessions)"
    assert labels["pa-sessions-json"] == "Download JSON (all sessions)"
    assert {labels[f"pa-md-{s.session_id}"] for s in made} == {"Markdown"}
    at.checkbox(key=f"pa-sel-{made[0].session_id}").check().run()
    labels = {b.key: b.label for b in at.download_button}
    assert labels["pa-sessions-json"] == "Download JSON (1 selected session)"


def test_large_json_export_is_prepared_into_a_file(app_env, monkeypatch):
    from ui import exports

    s = app_env.svc.create_session(user=app_env.alice, title="Big")
    for j in range(4):
        app_env.svc.add_message(s.session_id, user=app_env.alice, content=f"part {j}")
    monkeypatch.setattr(exports, "LAZY_EXPORT_MAX", 3)
    at = app_env.page("sessions")
    assert not _has(at, "pa-sessions-json")
    prepare = at.button(key="pa-sessions-prepare-json")
    assert prepare.label == "Prepare JSON of 4 messages"
    prepare.click().run()
    assert_no_exception(at)
    assert _has(at, "pa-sessions-json")
    (selection, path) = at.session_state[ie.PREPARED_KEY]["json"]
    assert selection == ((), 4)
    data = Path(path).read_bytes()
    assert_same_json_export(data, "".join(app_env.svc.export_json(app_env.alice)))
    _assert_small_state(at)


def test_chat_page_offers_markdown_json_and_csv_of_the_open_chat(app_env):
    s = app_env.svc.create_session(user=app_env.alice, title="Packing list")
    app_env.svc.add_message(s.session_id, user=app_env.alice, content="export me")
    at = app_env.app(query={"session_id": s.session_id}).run()
    assert_no_exception(at)
    labels = [b.label for b in at.download_button]
    assert labels == [
        "Download this chat (Markdown)",
        "Download this chat (JSON)",
        "Download this chat (CSV)",
    ]
    assert "Packing list" in texts(at)


def test_download_data_is_exactly_the_services_export(app_env):
    svc, alice = app_env.svc, app_env.alice
    s = svc.create_session(user=alice, title="Übersicht: Q4 / plans")
    svc.add_message(s.session_id, user=alice, content="naïve café ✓")
    svc.add_message(s.session_id, user=alice, role="assistant", content="**done**")
    json_bytes = ie.export_bytes(lambda: svc.export_json(alice, [s.session_id]))()
    assert_same_json_export(json_bytes, "".join(svc.export_json(alice, [s.session_id])))
    assert json.loads(json_bytes)["sessions"][0]["messages"][0]["content"] == "naïve café ✓"
    md = ie.export_bytes(lambda: svc.export_markdown(alice, s.session_id))()
    assert md == svc.export_markdown(alice, s.session_id).encode("utf-8")
    name = ie.session_file_name(alice, svc.get_session(s.session_id, user=alice), "md")
    assert name.startswith("alice-ubersicht-q4-plans-") and name.endswith(".md")


def test_a_download_of_another_users_session_is_empty(app_env):
    svc = app_env.svc
    s = svc.create_session(user=app_env.bob, title="Bob only")
    svc.add_message(s.session_id, user=app_env.bob, content="bob secret")
    assert ie.export_bytes(lambda: svc.export_markdown(app_env.alice, s.session_id))() == b""


def _has(at, key: str) -> bool:
    return any(b.key == key for b in at.download_button)


def _zip_without_conversations() -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("readme.txt", "no conversations here")
    return buffer.getvalue()


def _assert_small_state(at) -> None:
    """The app's own session_state entries are ids and small values (no file or export bytes)."""
    for key, value in at.session_state.items():
        if key.startswith("pa_"):
            assert not isinstance(value, bytes | bytearray), key
            assert len(pickle.dumps(value)) < 20_000, key
