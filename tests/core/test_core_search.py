"""Full-text search: PostgreSQL tsvector/GIN and SQLite FTS5 with web-search syntax."""

from __future__ import annotations

import pytest

from pa_core.service.search import to_fts5_query


@pytest.fixture
def corpus(svc, alice, bob):
    a = svc.create_session(user=alice, title="Travel")
    b = svc.create_session(user=alice, title="Cooking")
    svc.add_message(a.session_id, user=alice, content="Book the train to Milan on Friday morning")
    svc.add_message(a.session_id, user=alice, role="assistant", content="Trains leave hourly.")
    svc.add_message(b.session_id, user=alice, content="How long to boil an egg? Soft yolk please")
    svc.add_message(b.session_id, user=alice, content="Baking bread needs flour, water and salt")
    x = svc.create_session(user=bob, title="Bob")
    svc.add_message(x.session_id, user=bob, content="Bob also takes the train to Milan")
    return a, b


def test_search_finds_with_snippet_and_title(svc, alice, corpus):
    a, _ = corpus
    hits = svc.search_messages(alice, "Milan")
    assert len(hits) == 1
    hit = hits[0]
    assert hit.session_id == a.session_id and hit.session_title == "Travel"
    assert "**Milan**" in hit.snippet
    assert hit.created_at.utcoffset().total_seconds() == 0
    assert isinstance(hit.message_id, int)


def test_search_stemming_newest_first(svc, alice, corpus):
    hits = svc.search_messages(alice, "train")
    assert [h.session_title for h in hits] == ["Travel", "Travel"]
    assert hits[0].message_id > hits[1].message_id


def test_search_websearch_syntax(svc, alice, corpus):
    assert len(svc.search_messages(alice, '"soft yolk"')) == 1
    assert svc.search_messages(alice, '"yolk soft"') == []
    assert len(svc.search_messages(alice, "egg OR bread")) == 2
    assert [h.snippet for h in svc.search_messages(alice, "train -Milan")][0].count("Trains") == 1
    assert svc.search_messages(alice, "egg bread") == []


@pytest.mark.parametrize(
    "weird", ['"', "AND OR NOT", "*", "((", "NEAR(a b)", "-", "' OR 1=1 --", "\x00", "  "]
)
def test_search_hostile_input_never_errors(svc, alice, corpus, weird):
    assert isinstance(svc.search_messages(alice, weird), list)


def test_search_is_per_user(svc, alice, bob, corpus):
    assert len(svc.search_messages(bob, "Milan")) == 1
    assert all(h.session_title == "Bob" for h in svc.search_messages(bob, "train"))
    assert svc.search_messages(bob, "egg") == []


def test_search_limit(svc, alice):
    s = svc.create_session(user=alice)
    for i in range(30):
        svc.add_message(s.session_id, user=alice, content=f"repeated needle number {i}")
    assert len(svc.search_messages(alice, "needle", limit=7)) == 7
    assert len(svc.search_messages(alice, "needle")) == 20


def test_search_uses_index_not_scan(svc, alice, engine, corpus):
    """The plan for a search goes through the full-text index, not a scan of all messages."""
    from sqlalchemy import text

    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            plan = conn.execute(
                text(
                    "EXPLAIN QUERY PLAN SELECT rowid FROM messages_fts "
                    "WHERE messages_fts MATCH 'milan'"
                )
            ).all()
            assert any("VIRTUAL TABLE INDEX" in str(r) for r in plan)
        else:
            conn.execute(text("SET enable_seqscan = off"))
            plan = (
                conn.execute(
                    text(
                        "EXPLAIN SELECT id FROM conversation_messages WHERE "
                        "content_tsv @@ websearch_to_tsquery('english', 'milan')"
                    )
                )
                .scalars()
                .all()
            )
            assert any("ix_messages_content_tsv" in line for line in plan)


def test_fts5_translation():
    assert to_fts5_query("hello world") == '"hello" AND "world"'
    assert to_fts5_query('"soft yolk"') == '"soft yolk"'
    assert to_fts5_query("egg OR bread") == '("egg" OR "bread")'
    assert to_fts5_query("train -milan") == '("train") NOT "milan"'
    assert to_fts5_query("-only") == ""
    assert to_fts5_query('a"b') == '"a b"'


def test_search_beyond_the_recent_window(svc, alice, monkeypatch):
    """Hits older than the recent window come from the full-index fallback, still newest first."""
    from pa_core.service import search as search_module

    monkeypatch.setattr(search_module, "RECENT_WINDOW", 3)
    s = svc.create_session(user=alice, title="Long")
    old = [svc.add_message(s.session_id, user=alice, content=f"walrus memo {i}") for i in range(2)]
    for i in range(5):
        svc.add_message(s.session_id, user=alice, content=f"filler text {i}")
    recent = svc.add_message(s.session_id, user=alice, content="walrus again")
    hits = svc.search_messages(alice, "walrus")
    assert [h.message_id for h in hits] == [recent.id, old[1].id, old[0].id]
    assert [h.message_id for h in svc.search_messages(alice, "walrus", limit=1)] == [recent.id]
    assert svc.search_messages(alice, "narwhal") == []
