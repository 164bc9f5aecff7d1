"""The stored search vector (migration 0008): populated upgrade/downgrade, odd texts, plans."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

import pa_core
from pa_core.db import create_db_engine
from pa_core.migrate import downgrade
from pa_core.schema_extras import PG_EXPRESSION_INDEX, PG_FTS_INDEX, PG_TSV_COLUMN
from pa_core.service import search as search_module
from pa_core.validation import MAX_CONTENT_CHARS


def _schema(engine) -> tuple[set[str], set[str]]:
    """(columns, index names) of conversation_messages."""
    inspector = inspect(engine)
    columns = {c["name"] for c in inspector.get_columns("conversation_messages")}
    return columns, {i["name"] for i in inspector.get_indexes("conversation_messages")}


def _hits(svc, user, query: str) -> list[int]:
    return [hit.message_id for hit in svc.search_messages(user, query)]


def test_upgrade_of_a_populated_database_finds_old_messages_and_downgrades(empty_url):
    pa_core.migrate(empty_url, "0006")
    engine = create_db_engine(empty_url)
    svc = pa_core.ConversationService(engine)
    try:
        user = svc.ensure_user("before-0008")
        sid = svc.create_session(user=user).session_id
        for i in range(30):
            svc.add_message(sid, user=user, content=f"the old tent number {i} by the river")
        svc.add_message(sid, user=user, content="a rare quokka sighting near the tent")
        pa_core.migrate(empty_url)
        expected = [m.id for m in reversed(svc.get_messages(sid, user=user))]
        assert _hits(svc, user, "tent") == expected[:20]
        assert _hits(svc, user, "quokka") == expected[:1]
        assert _hits(svc, user, '"old tent"') == expected[1:21]
        pg = engine.dialect.name == "postgresql"
        columns, indexes = _schema(engine)
        assert (PG_TSV_COLUMN in columns, PG_FTS_INDEX in indexes) == (pg, pg)
        assert PG_EXPRESSION_INDEX not in indexes
        downgrade(empty_url, "0006")
        columns, indexes = _schema(engine)
        assert PG_TSV_COLUMN not in columns and PG_FTS_INDEX not in indexes
        assert (PG_EXPRESSION_INDEX in indexes) == pg
        assert len(svc.get_messages(sid, user=user)) == 31
        pa_core.migrate(empty_url)
        assert _hits(svc, user, "quokka") == expected[:1]
    finally:
        engine.dispose()


def _distinct_words(n: int) -> str:
    """`n` different words of four-byte characters (the most lexeme bytes per character)."""
    base = 0x1D400  # MATHEMATICAL BOLD CAPITAL A: letters, 4 bytes in UTF-8
    return " ".join(
        "".join(chr(base + (i // 52**k) % 52) for k in range(4)) + "x" for i in range(n)
    )


def test_append_huge_and_odd_texts(svc, alice):
    sid = svc.create_session(user=alice).session_id
    huge = ("zebra " + _distinct_words(MAX_CONTENT_CHARS))[:MAX_CONTENT_CHARS]
    odd = "nul\x00inside, tabs\tand\r\nnewlines, emoji 🦓, combining é, rtl שלום, zebra"
    svc.add_message(sid, user=alice, content=huge)
    svc.add_message(sid, user=alice, content=odd)
    stored = svc.get_messages(sid, user=alice)
    assert [len(m.content) for m in stored] == [MAX_CONTENT_CHARS, len(odd)]
    assert _hits(svc, alice, "zebra") == [stored[1].id, stored[0].id]
    assert _hits(svc, alice, "nul") == [stored[1].id]


def test_a_text_beyond_the_tsvector_limit_is_still_stored(svc, alice, engine):
    """Rows written around the service (SQL, old backups) may be longer than the app allows:
    the stored vector parses the first PG_TSV_MAX_CHARS characters and the INSERT succeeds
    (to_tsvector of the whole text fails: "string is too long for tsvector")."""
    if engine.dialect.name != "postgresql":
        pytest.skip("the tsvector limit is PostgreSQL's")
    sid = svc.create_session(user=alice).session_id
    long_text = "walrus " + _distinct_words(300_000)
    with engine.begin() as conn:
        with pytest.raises(Exception, match="too long for tsvector"), conn.begin_nested():
            conn.execute(text("SELECT to_tsvector('english', :t)"), {"t": long_text})
        conn.execute(
            text(
                "INSERT INTO conversation_messages (session_id, user_id, role, content, "
                "has_error, created_at) VALUES (:sid, :uid, 'user', :t, false, now())"
            ),
            {"sid": sid, "uid": alice.id, "t": long_text},
        )
    assert len(_hits(svc, alice, "walrus")) == 1


def _plan(engine, statement, params) -> str:
    """EXPLAIN of `statement` (None: the fallback step, chosen and set up as search does)."""
    with engine.begin() as conn:
        if statement is None:
            statement = search_module.pg_fallback(conn)
        rows = conn.execute(text("EXPLAIN " + statement.text), params).scalars()
        return "\n".join(rows)


def test_plans_use_the_stored_vector_without_statistics(svc, alice, engine):
    """On a table never analyzed, the fallback goes through the GIN index on the stored column
    and neither step parses message text (no to_tsvector at query time)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL plans")
    sid = svc.create_session(user=alice).session_id
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE conversation_messages SET (autovacuum_enabled = false)"))
        conn.execute(
            text(
                "INSERT INTO conversation_messages (session_id, user_id, role, content, "
                "has_error, created_at) SELECT :sid, :uid, 'user', 'hay ' || md5(g::text), "
                "false, now() - g * interval '1 second' FROM generate_series(1, 20000) g"
            ),
            {"sid": sid, "uid": alice.id},
        )
        analyzed = conn.execute(
            text(
                "SELECT count(*) FROM pg_stats WHERE tablename = 'conversation_messages' "
                "AND attname = 'user_id'"
            )
        ).scalar_one()
    assert analyzed == 0
    params = {"uid": alice.id, "q": '"needle haystack"', "lim": 20, "window": 200}
    params["headline"] = "MaxWords=24"
    fallback = _plan(engine, None, params)
    assert PG_FTS_INDEX in fallback
    assert f"' u{alice.id}'" in fallback  # the index intersects the words with the owner
    recent = _plan(engine, search_module._PG_SEARCH_RECENT, params)
    for plan in (fallback, recent):
        assert "to_tsvector" not in plan
        assert "Seq Scan on conversation_messages" not in plan


def test_phrases_words_and_negations_beyond_the_recent_window(svc, alice, bob, monkeypatch):
    """The fallback (a phrase relaxed to its words in the index, then checked newest first)
    returns exactly the newest hits, never another user's, on both backends."""
    monkeypatch.setattr(search_module, "RECENT_WINDOW", 2)
    mine = svc.create_session(user=alice).session_id
    theirs = svc.create_session(user=bob).session_id
    texts = [
        "the budget report is late",  # 0 phrase
        "report on the budget",  # 1 both words, not the phrase
        "budget report again",  # 2 phrase
        "nothing here",  # 3
        "a budget, then a report",  # 4 both words, not adjacent
        "final budget report",  # 5 phrase
        "filler one",  # 6
        "filler two",  # 7
    ]
    ids = [svc.add_message(mine, user=alice, content=t).id for t in texts]
    svc.add_message(theirs, user=bob, content="bob's budget report")
    assert _hits(svc, alice, '"budget report"') == [ids[5], ids[2], ids[0]]
    assert _hits(svc, alice, "budget report") == [ids[5], ids[4], ids[2], ids[1], ids[0]]
    assert _hits(svc, alice, '"budget report" -final') == [ids[2], ids[0]]
    assert _hits(svc, alice, 'budget -"budget report"') == [ids[4], ids[1]]
    limited = svc.search_messages(alice, '"budget report"', limit=2)
    assert [h.message_id for h in limited] == [ids[5], ids[2]]
    queries = ['"report on" OR "final budget"', '"the budget"', "-budget", "the", '"a report"']
    fallback = {q: svc.search_messages(alice, q) for q in queries}
    monkeypatch.setattr(search_module, "RECENT_WINDOW", 1000)  # step 1 alone: the plain match
    assert {q: svc.search_messages(alice, q) for q in queries} == fallback
