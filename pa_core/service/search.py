"""Full-text search: PostgreSQL tsvector + GIN (websearch syntax), SQLite FTS5 (same syntax)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, TextClause, text

from pa_core.models import UTCDateTime
from pa_core.records import ConversationHits, MatchedMessage, SearchHit
from pa_core.validation import MAX_SEARCH_CHARS

TS_CONFIG = "english"
SNIPPET_WORDS = 12
# Snippet markers: `**` for search_messages (markdown, as the API documents); two private-use
# characters for search_conversations, split into (text, is_match) parts so the UI can escape
# the text and highlight only the matches.
BOLD = ("**", "**")
MARK_START, MARK_END = "\ue000", "\ue001"
MARKS = (MARK_START, MARK_END)
_TOKEN = re.compile(r'(-?)"([^"]*)"|(\S+)')

# PostgreSQL in two steps, newest first by (created_at, id), both on the stored vector
# content_tsv (migration 0008: no message text is parsed at query time):
# 1. the user's RECENT_WINDOW newest messages (index on user_id, created_at), matched one by one:
#    a common word fills the page here, cheaply and exactly;
# 2. only when that page is short and the user has older messages, all of the user's hits:
#    - through the GIN index where it can serve the match (no row-level security applies, or
#      ts_match_vq is LEAKPROOF: docs/SECURITY.md), _PG_SEARCH_ALL: the query, a phrase relaxed
#      to the AND of its words, ANDed with the owner's lexeme (schema_extras.OWNER_LEXEME), so
#      the index alone answers "these words of this user" exactly; those candidates are then
#      checked newest first against the real query until `lim` hits. The user_id test is
#      written so that no btree index can serve it (`+ 0`) and sequential scans are off for
#      the rest of the (search's own) transaction: the plan is the GIN index on any table,
#      analyzed or not, never "all of the user's rows matched one by one" (a rare word or a
#      phrase at 100,000 messages);
#    - else (row security evaluates its policy first), _PG_SEARCH_OWN_ROWS: through the user_id
#      index, matching the user's stored vectors one by one.
#    MATERIALIZED keeps the planner from walking the table in date order until `lim` hits turn up.
# ts_headline runs on the `lim` hits only.
RECENT_WINDOW = 200
FALLBACK_WORK_MEM = "64MB"
# Before step 2, until the transaction ends: enough memory for an exact bitmap (a lossy one
# rechecks every row of its pages); whether the GIN index can serve the match; if so, no
# sequential scan.
_GIN_USABLE = (
    "(SELECT r.rolsuper OR r.rolbypassrls FROM pg_roles r WHERE r.rolname = current_user) "
    "OR (SELECT p.proleakproof FROM pg_proc p "
    "WHERE p.oid = 'pg_catalog.ts_match_vq(tsvector, tsquery)'::regprocedure)"
)
_PG_FALLBACK_SETTINGS = text(
    f"SELECT set_config('work_mem', '{FALLBACK_WORK_MEM}', true), u.gin, "
    "set_config('enable_seqscan', CASE WHEN u.gin THEN 'off' ELSE 'on' END, true) "
    f"FROM (SELECT {_GIN_USABLE} AS gin) u"
)
_WORDS = f"websearch_to_tsquery('{TS_CONFIG}', :q)"
_OWNER = "CAST(''' u' || CAST(:uid AS text) || '''' AS tsquery)"  # the tsquery ' u<id>'
_PG_OUTPUT = f"""
    SELECT h.session_id, h.id, s.title,
           ts_headline('{TS_CONFIG}', h.content, q.q, :headline),
           h.created_at, h.role, s.pinned, s.is_active
      FROM top
      JOIN conversation_messages h ON h.id = top.id
      JOIN conversation_sessions s ON s.session_id = h.session_id,
           {_WORDS} AS q(q)
     ORDER BY h.created_at DESC, h.id DESC
"""
_PG_SEARCH_RECENT = text(
    f"""
    WITH recent AS MATERIALIZED (
        SELECT m.id, m.created_at, m.content_tsv
          FROM conversation_messages m
         WHERE m.user_id = :uid
         ORDER BY m.created_at DESC, m.id DESC
         LIMIT :window
    ), top AS (
        SELECT r.id
          FROM recent r
         WHERE r.content_tsv @@ {_WORDS}
         ORDER BY r.created_at DESC, r.id DESC
         LIMIT :lim
    )
    {_PG_OUTPUT}
    """
)


# The relaxed query: phrase operators become AND, which the index answers without reading any
# row's vector; not with a negation (!(a <-> b) does not imply !(a & b)). An empty query (only
# stop words) stays empty: ANDing the owner into it would match every message. OFFSET 0 keeps
# the check against the real query above the sort, so it stops after `lim` hits.
_RELAXED = (
    f"CASE WHEN strpos(CAST({_WORDS} AS text), '!') > 0 THEN {_WORDS} "
    f"ELSE CAST(regexp_replace(CAST({_WORDS} AS text), ' <(-|[0-9]+)> ', ' & ', 'g') AS tsquery) "
    "END"
)
_PG_SEARCH_ALL = text(
    f"""
    WITH candidates AS MATERIALIZED (
        SELECT m.id, m.created_at
          FROM conversation_messages m
         WHERE m.content_tsv @@ CASE WHEN numnode({_WORDS}) = 0 THEN {_WORDS}
                                     ELSE {_RELAXED} && {_OWNER} END
           AND m.user_id + 0 = :uid
    ), top AS (
        SELECT c.id
          FROM (SELECT id, created_at FROM candidates
                 ORDER BY created_at DESC, id DESC OFFSET 0) c
         WHERE (SELECT m.content_tsv FROM conversation_messages m WHERE m.id = c.id) @@ {_WORDS}
         LIMIT :lim
    )
    {_PG_OUTPUT}
    """
)
_PG_SEARCH_OWN_ROWS = text(
    f"""
    WITH hits AS MATERIALIZED (
        SELECT m.id, m.created_at
          FROM conversation_messages m
         WHERE m.user_id = :uid AND m.content_tsv @@ {_WORDS}
    ), top AS (
        SELECT id FROM hits ORDER BY created_at DESC, id DESC LIMIT :lim
    )
    {_PG_OUTPUT}
    """
)
_PG_OLDER_EXIST = text(
    "SELECT 1 FROM conversation_messages WHERE user_id = :uid "
    "ORDER BY created_at DESC OFFSET :window LIMIT 1"
)


def pg_fallback(conn: Connection) -> TextClause:
    """Settings for step 2 in this transaction; the statement step 2 runs (see above)."""
    gin_usable = conn.execute(_PG_FALLBACK_SETTINGS).one()[1]
    return _PG_SEARCH_ALL if gin_usable else _PG_SEARCH_OWN_ROWS


# The inner query picks the user's `lim` newest hits without snippets; snippet() then runs on
# those rows only (computing it for every hit before the sort cost 0.4 s for a common word).
_SQLITE_SEARCH = text(
    f"""
    SELECT m.session_id, m.id, s.title,
           snippet(messages_fts, 0, :start, :stop, '…', {SNIPPET_WORDS}),
           m.created_at, m.role, s.pinned, s.is_active
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
    conn: Connection,
    *,
    user_id: int,
    query: str,
    limit: int,
    sqlite: bool,
    marks: tuple[str, str] = BOLD,
) -> list[SearchHit]:
    """Hits for `query` among the user's messages, newest first (in the caller's transaction)."""
    return [hit for hit, _state in _search(conn, user_id, query, limit, sqlite, marks)]


def search_conversations(
    conn: Connection,
    *,
    user_id: int,
    query: str,
    window: int,
    sqlite: bool,
    sessions: int,
    per_session: int,
    pinned: bool | None = None,
    archived: bool | None = None,
) -> list[ConversationHits]:
    """The user's newest `window` hits grouped by conversation, newest match first.

    `pinned` / `archived` (True, False, or None for either) keep only matching conversations.
    """
    groups: dict[str, ConversationHits] = {}
    for hit, (is_pinned, is_active) in _search(conn, user_id, query, window, sqlite, MARKS):
        if pinned is not None and is_pinned != pinned:
            continue
        if archived is not None and (not is_active) != archived:
            continue
        group = groups.get(hit.session_id)
        if group is None:
            if len(groups) == sessions:
                continue
            group = ConversationHits(hit.session_id, hit.session_title, is_pinned, is_active, [], 0)
        if len(group.matches) < per_session:
            group.matches.append(
                MatchedMessage(hit.message_id, hit.role, hit.created_at, snippet_parts(hit.snippet))
            )
        groups[hit.session_id] = group._replace(match_count=group.match_count + 1)
    return list(groups.values())


def snippet_parts(snippet: str) -> tuple[tuple[str, bool], ...]:
    """A snippet marked with MARK_START/MARK_END as (text, is_match) pieces, in order."""
    parts: list[tuple[str, bool]] = []
    for i, piece in enumerate(snippet.split(MARK_START)):
        match, _, rest = piece.partition(MARK_END) if i else ("", "", piece)
        for text_, is_match in ((match, True), (rest.replace(MARK_END, ""), False)):
            if text_:
                parts.append((text_, is_match))
    return tuple(parts)


def _search(
    conn: Connection, user_id: int, query: str, limit: int, sqlite: bool, marks: tuple[str, str]
) -> list[tuple[SearchHit, tuple[bool, bool]]]:
    """(hit, (pinned, is_active) of its session) for the `limit` newest hits."""
    query = query.replace("\x00", " ")[:MAX_SEARCH_CHARS]
    if sqlite:
        fts = to_fts5_query(query)
        if not fts:
            return []
        params = {"q": fts, "uid": user_id, "lim": limit, "start": marks[0], "stop": marks[1]}
        rows = conn.execute(_SQLITE_SEARCH, params).all()
    else:
        params = {
            "q": query,
            "uid": user_id,
            "lim": limit,
            "window": RECENT_WINDOW,
            "headline": (
                "MaxWords=24, MinWords=8, MaxFragments=1, "
                f'StartSel="{marks[0]}", StopSel="{marks[1]}"'
            ),
        }
        rows = conn.execute(_PG_SEARCH_RECENT, params).all()
        if len(rows) < limit and conn.execute(_PG_OLDER_EXIST, params).first() is not None:
            rows = conn.execute(pg_fallback(conn), params).all()
    return [
        (
            SearchHit(
                r[0], r[1], r[2], r[3] or "", _DT.process_result_value(_as_dt(r[4]), None), r[5]
            ),
            (bool(r[6]), bool(r[7])),
        )
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


def _as_dt(value: Any) -> Any:
    """SQLite returns timestamps of raw SQL as ISO text; PostgreSQL as datetimes."""
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    return value
