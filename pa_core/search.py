"""Full-text search: PostgreSQL tsvector + GIN (websearch syntax), SQLite FTS5 (same syntax)."""

from __future__ import annotations

import re

from sqlalchemy import Connection, text

from pa_core.models import UTCDateTime
from pa_core.records import SearchHit
from pa_core.validation import MAX_SEARCH_CHARS

TS_CONFIG = "english"
SNIPPET_WORDS = 12
_TOKEN = re.compile(r'(-?)"([^"]*)"|(\S+)')

# The user's hits are collected first (MATERIALIZED: the planner may not turn this into a
# backward walk of the primary key that evaluates to_tsvector row by row until `lim` hits turn up;
# for a rare word that walk visits every message of the table: seconds at 250k messages). The
# cost is bounded by the number of the user's matching messages, found through the GIN index;
# ts_headline then runs on the `lim` newest hits only.
_PG_SEARCH = text(
    f"""
    WITH hits AS MATERIALIZED (
        SELECT m.id
          FROM conversation_messages m
         WHERE m.user_id = :uid
           AND to_tsvector('{TS_CONFIG}', m.content) @@ websearch_to_tsquery('{TS_CONFIG}', :q)
    ), top AS (
        SELECT id FROM hits ORDER BY id DESC LIMIT :lim
    )
    SELECT h.session_id, h.id, s.title,
           ts_headline('{TS_CONFIG}', h.content, q.q,
                       'MaxWords=24, MinWords=8, MaxFragments=1, StartSel=**, StopSel=**'),
           h.created_at, h.role
      FROM top
      JOIN conversation_messages h ON h.id = top.id
      JOIN conversation_sessions s ON s.session_id = h.session_id,
           websearch_to_tsquery('{TS_CONFIG}', :q) AS q(q)
     ORDER BY h.id DESC
    """
)

# The inner query picks the user's `lim` newest hits without snippets; snippet() then runs on
# those rows only (computing it for every hit before the sort cost 0.4 s for a common word).
_SQLITE_SEARCH = text(
    f"""
    SELECT m.session_id, m.id, s.title,
           snippet(messages_fts, 0, '**', '**', '…', {SNIPPET_WORDS}),
           m.created_at, m.role
      FROM messages_fts
      JOIN conversation_messages m ON m.id = messages_fts.rowid
      JOIN conversation_sessions s ON s.session_id = m.session_id
     WHERE messages_fts MATCH :q
       AND messages_fts.rowid IN (
            SELECT hit.id
              FROM messages_fts AS f
              JOIN conversation_messages hit ON hit.id = f.rowid
             WHERE f.messages_fts MATCH :q AND hit.user_id = :uid
             ORDER BY hit.id DESC
             LIMIT :lim)
     ORDER BY m.id DESC
    """
)

_DT = UTCDateTime()


def search_messages(
    conn: Connection, *, user_id: int, query: str, limit: int, sqlite: bool
) -> list[SearchHit]:
    """Hits for `query` among the user's messages, newest first (in the caller's transaction)."""
    query = query.replace("\x00", " ")[:MAX_SEARCH_CHARS]
    if sqlite:
        fts = to_fts5_query(query)
        if not fts:
            return []
        rows = conn.execute(_SQLITE_SEARCH, {"q": fts, "uid": user_id, "lim": limit}).all()
    else:
        rows = conn.execute(_PG_SEARCH, {"q": query, "uid": user_id, "lim": limit}).all()
    return [
        SearchHit(r[0], r[1], r[2], r[3] or "", _DT.process_result_value(_as_dt(r[4]), None), r[5])
        for r in rows
    ]


def to_fts5_query(query: str) -> str:
    """Translate web-search syntax ("phrase", -word, OR) into a safe FTS5 MATCH expression."""
    groups: list[list[str]] = [[]]
    negatives: list[str] = []
    pending_or = False
    for neg, phrase, word in _TOKEN.findall(query):
        if word and word.upper() == "OR":
            pending_or = True
            continue
        term = phrase if phrase else word
        negate = bool(neg) or (bool(word) and word.startswith("-") and len(word) > 1)
        if word and word.startswith("-"):
            term = word[1:]
        term = _clean_term(term)
        if not term:
            continue
        quoted = '"' + term.replace('"', '""') + '"'
        if negate:
            negatives.append(quoted)
        elif pending_or and groups[-1]:
            groups[-1].append(quoted)
        else:
            groups.append([quoted])
        pending_or = False
    positives = [" OR ".join(g) if len(g) == 1 else "(" + " OR ".join(g) + ")" for g in groups if g]
    if not positives:
        return ""
    expression = " AND ".join(positives)
    for neg in negatives:
        expression = f"({expression}) NOT {neg}"
    return expression


def _clean_term(term: str) -> str:
    # Keep letters, digits and inner punctuation the unicode61 tokenizer splits on anyway.
    return " ".join(re.findall(r"\w+", term))


def _as_dt(value):
    if isinstance(value, str):
        from datetime import datetime

        return datetime.fromisoformat(value)
    return value
