"""Messages: add, history paging, validation, text fidelity and the NUL rule."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from pa_core import SessionNotFound, ValidationError
from pa_core.textsafe import NUL_REPLACEMENT
from pa_core.validation import MAX_CONTENT_CHARS


@pytest.fixture
def session(svc, alice):
    return svc.create_session(user=alice)


def test_add_message_all_fields(svc, alice, session):
    m = svc.add_message(
        session.session_id,
        user=alice,
        role="assistant",
        content="84",
        tools_used=["calculator"],
        processing_time_ms=12,
        token_count=30,
        has_error=False,
        metadata={"model": "offline", "usage": {"prompt": 20, "completion": 10}},
    )
    [stored] = svc.get_messages(session.session_id, user=alice)
    assert stored == m
    assert stored.tools_used == ["calculator"]
    assert stored.message_metadata["usage"]["completion"] == 10
    assert stored.created_at.utcoffset().total_seconds() == 0
    s = svc.get_session(session.session_id, user=alice)
    assert s.message_count == 1 and s.last_activity_at == m.created_at


def test_error_message_stored(svc, alice, session):
    svc.add_message(
        session.session_id,
        user=alice,
        role="assistant",
        content="The model is busy; try again.",
        has_error=True,
        error_message="RateLimitError: 429",
    )
    [m] = svc.get_messages(session.session_id, user=alice)
    assert m.has_error is True and m.error_message == "RateLimitError: 429"


def test_microsecond_timestamps_and_insertion_order(svc, alice, session):
    for i in range(20):
        svc.add_message(session.session_id, user=alice, content=f"m{i}")
    msgs = svc.get_messages(session.session_id, user=alice)
    assert [m.content for m in msgs] == [f"m{i}" for i in range(20)]
    assert [m.id for m in msgs] == sorted(m.id for m in msgs)
    assert any(m.created_at.microsecond for m in msgs)


def test_last_n_and_before_id(svc, alice, session):
    ids = [svc.add_message(session.session_id, user=alice, content=f"m{i}").id for i in range(120)]
    last = svc.get_messages(session.session_id, user=alice, limit=50)
    assert [m.id for m in last] == ids[-50:]
    earlier = svc.get_messages(session.session_id, user=alice, limit=50, before_id=last[0].id)
    assert [m.id for m in earlier] == ids[20:70]
    first = svc.get_messages(session.session_id, user=alice, limit=50, before_id=earlier[0].id)
    assert [m.id for m in first] == ids[:20]
    assert svc.get_messages(session.session_id, user=alice, limit=50, before_id=ids[0]) == []
    assert len(svc.get_messages(session.session_id, user=alice)) == 120


def test_empty_session_has_no_messages(svc, alice, session):
    assert svc.get_messages(session.session_id, user=alice) == []
    assert svc.get_messages(session.session_id, user=alice, limit=5) == []


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"role": "robot", "content": "x"}, "role"),
        ({"content": ""}, "empty"),
        ({"content": "   \n"}, "empty"),
        ({"content": "x" * (MAX_CONTENT_CHARS + 1)}, "too long"),
        ({"content": 5}, "text"),
        ({"content": "x", "tools_used": "calculator"}, "list"),
        ({"content": "x", "processing_time_ms": -1}, "non-negative"),
        ({"content": "x", "metadata": {"bad": object()}}, "JSON"),
    ],
)
def test_validation_errors(svc, alice, session, kwargs, match):
    with pytest.raises(ValidationError, match=match) as err:
        svc.add_message(session.session_id, user=alice, **kwargs)
    assert isinstance(err.value, ValueError)
    assert svc.get_messages(session.session_id, user=alice) == []


def test_unknown_session_raises(svc, alice):
    with pytest.raises(SessionNotFound):
        svc.add_message("00000000-0000-4000-8000-000000000000", user=alice, content="x")
    with pytest.raises(SessionNotFound):
        svc.add_message("nope", user=alice, content="x")
    with pytest.raises(SessionNotFound):
        svc.get_messages("nope", user=alice)


FIDELITY = [
    "emoji 👩‍💻🚀🇨🇭 and combining é",
    "RTL: שלום עולם مرحبا بالعالم",
    "<script>alert('x')</script><b>bold</b>",
    'Robert\'); DROP TABLE conversation_messages;-- "quoted" \\ backslash',
    "multi\nline\r\nwith\ttabs",
    '=HYPERLINK("http://evil")',
    "x" * 100_000,
    "😀" * 50_000,
]


@pytest.mark.parametrize("content", FIDELITY, ids=range(len(FIDELITY)))
def test_text_fidelity(svc, alice, session, content):
    svc.add_message(session.session_id, user=alice, content=content, metadata={"echo": content})
    [m] = svc.get_messages(session.session_id, user=alice)
    assert m.content == content
    assert m.message_metadata == {"echo": content}


def test_max_content_accepted(svc, alice, session):
    words = ("lorem ipsum dolor sit amet consectetur " * 6000)[:MAX_CONTENT_CHARS]
    svc.add_message(session.session_id, user=alice, content=words)
    [m] = svc.get_messages(session.session_id, user=alice)
    assert len(m.content) == MAX_CONTENT_CHARS


def test_nul_rule_same_on_both_backends(svc, alice, session, engine):
    m = svc.add_message(
        session.session_id,
        user=alice,
        role="assistant",
        content="a\x00b",
        tools_used=["to\x00ol"],
        has_error=True,
        error_message="err\x00or",
        metadata={"k\x00": ["v\x00", {"n": "\x00"}]},
    )
    r = NUL_REPLACEMENT
    assert m.content == f"a{r}b"
    [stored] = svc.get_messages(session.session_id, user=alice)
    assert stored.content == f"a{r}b"
    assert stored.tools_used == [f"to{r}ol"]
    assert stored.error_message == f"err{r}or"
    assert stored.message_metadata == {f"k{r}": [f"v{r}", {"n": r}]}
    renamed = svc.rename_session(session.session_id, user=alice, title="t\x00t")
    assert renamed.title == f"t{r}t"
    with engine.connect() as conn:
        raw = conn.execute(text("SELECT content FROM conversation_messages")).scalar_one()
    assert raw == f"a{r}b"
