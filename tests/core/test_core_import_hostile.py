"""Hostile and broken import files: a readable ValidationError, and nothing imported."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from pa_core.errors import ImportTooLarge, ValidationError
from pa_core.service import import_source, imports
from pa_core.textsafe import NUL_REPLACEMENT
from pa_core.validation import MAX_CONTENT_CHARS
from support.chatgpt_export import conversations_json, fixture_bytes, linear_conversation, zipped


def _nothing_imported(svc, user):
    assert svc.get_user_sessions(user, include_inactive=True) == []


@pytest.mark.parametrize(
    "data, words",
    [
        (b"", "neither a ChatGPT export"),
        (b"hello, world", "neither a ChatGPT export"),
        (b"\xff\xfe\x00garbage", "neither a zip nor UTF-8"),
        (b'{"some": "object"}', "neither a ChatGPT export"),
        (b'{"format": "personal-assistant-export", "version": 9, "sessions": []}', "version 9"),
        (b"[1, 2, 3]", "Item 1 of conversations.json is not a conversation"),
        (b'[{"a": 1}, {"b": 2}]', "No conversation in it has messages"),
        (b'[{"title": "x", "mapping": {}', "not valid JSON"),
        (b'{"format": "personal-assistant-export", "version": 1, "sessions": [{}]}', "session_id"),
        (b"[] trailing", "extra data"),
    ],
)
def test_foreign_or_broken_files_are_refused(svc, alice, data, words):
    with pytest.raises(ValidationError, match=words):
        svc.import_conversations(alice, data)
    _nothing_imported(svc, alice)


def test_broken_tail_imports_nothing_from_the_file(svc, alice):
    good = linear_conversation("c-1", "Good one", ["q", "a"])
    text = conversations_json(good)[:-1] + b', {"title": "cut", "mapping": {"r": '
    with pytest.raises(ValidationError, match="not valid JSON"):
        svc.import_conversations(alice, text)
    _nothing_imported(svc, alice)


def test_bad_field_in_a_later_session_imports_nothing(svc, alice):
    doc = {
        "format": "personal-assistant-export",
        "version": 1,
        "sessions": [
            _own_session("0b7c1e2a-1111-4c3b-9d7e-000000000001", "fine"),
            _own_session("0b7c1e2a-1111-4c3b-9d7e-000000000002", "bad", role="wizard"),
        ],
    }
    with pytest.raises(ValidationError, match="Session 2, message 1: Unknown message role"):
        svc.import_conversations(alice, json.dumps(doc))
    _nothing_imported(svc, alice)


def _own_session(sid, content, role="user"):
    at = "2026-11-30T10:00:00+01:00"
    return {
        "session_id": sid,
        "title": "t",
        "created_at": at,
        "last_activity_at": at,
        "messages": [{"role": role, "content": content, "created_at": at}],
    }


def test_zip_without_conversations_file(svc, alice):
    data = zipped(b"{}", name="user.json")
    with pytest.raises(ValidationError, match="holds no conversations.json"):
        svc.import_conversations(alice, data)


def test_corrupt_zip(svc, alice):
    data = zipped(fixture_bytes())
    with pytest.raises(ValidationError, match="zip"):
        svc.import_conversations(alice, data[:-40] + b"\x00" * 40)
    _nothing_imported(svc, alice)


def test_zip_bomb_is_refused_before_expanding(svc, alice):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("conversations.json", b"[" + b" " * (40 * 1024**2) + b"]")
    assert len(out.getvalue()) < 100_000  # 40 MB of JSON in well under 100 KB
    with pytest.raises(ImportTooLarge, match="zip bomb"):
        svc.import_conversations(alice, out.getvalue())


def test_file_over_the_size_limit(svc, alice, monkeypatch):
    monkeypatch.setattr(import_source, "MAX_IMPORT_BYTES", 1000)
    with pytest.raises(ImportTooLarge, match="too large"):
        svc.import_conversations(alice, b" " * 1001)
    with pytest.raises(ImportTooLarge):
        svc.import_conversations(alice, io.BufferedReader(io.BytesIO(b" " * 5000)))


def test_deeply_nested_json(svc, alice):
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(ValidationError, match="nested too deeply"):
        svc.import_conversations(alice, deep)
    conv = linear_conversation("c-deep", "deep", ["q"])
    conv["mapping"]["c-deep-n0"]["message"]["metadata"] = json.loads("[" * 50 + "]" * 50)
    assert svc.import_conversations(alice, conversations_json(conv)).sessions_imported == 1


def test_message_at_the_content_limit_is_kept_whole(svc, alice):
    text = "x" * MAX_CONTENT_CHARS
    conv = linear_conversation("c-long", "long", [text, "ok"])
    report = svc.import_conversations(alice, conversations_json(conv))
    assert report.warnings == []
    s = svc.get_user_sessions(alice)[0]
    assert svc.get_messages(s.session_id, user=alice)[0].content == text


def test_longer_message_is_shortened_with_a_warning(svc, alice):
    conv = linear_conversation("c-longer", "longer", ["y" * 250_000, "ok"])
    report = svc.import_conversations(alice, conversations_json(conv))
    assert any("shortened to 200,000" in w for w in report.warnings)
    s = svc.get_user_sessions(alice)[0]
    assert len(svc.get_messages(s.session_id, user=alice)[0].content) == MAX_CONTENT_CHARS


def test_nul_characters_follow_the_nul_rule(svc, alice):
    conv = linear_conversation("c-nul", "ti\x00tle", ["a\x00b", "ok"])
    svc.import_conversations(alice, conversations_json(conv))
    s = svc.get_user_sessions(alice)[0]
    assert s.title == f"ti{NUL_REPLACEMENT}tle"
    assert svc.get_messages(s.session_id, user=alice)[0].content == f"a{NUL_REPLACEMENT}b"


def test_too_many_messages_in_one_conversation(svc, alice, monkeypatch):
    monkeypatch.setattr(imports, "MAX_MESSAGES_PER_SESSION", 3)
    conv = linear_conversation("c-many", "many", ["a", "b", "c", "d"])
    with pytest.raises(ValidationError, match="the limit is 3"):
        svc.import_conversations(alice, conversations_json(conv))
    _nothing_imported(svc, alice)


def test_not_a_source(svc, alice):
    with pytest.raises(ValidationError, match="Import needs"):
        svc.import_conversations(alice, 42)
    with pytest.raises(ValidationError, match="binary mode"):
        svc.import_conversations(alice, io.StringIO("[]"))
