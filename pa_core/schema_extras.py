"""Full-text search objects the ORM models cannot declare (created by the migrations)."""

from __future__ import annotations

from typing import Any

# PostgreSQL, as migration 0001 created it: a GIN index on the expression, which a match must
# re-parse on every candidate row (kept for 0001 and for 0008's downgrade).
PG_EXPRESSION_INDEX = "ix_messages_content_fts"
PG_EXPRESSION_CREATE = [
    f"CREATE INDEX IF NOT EXISTS {PG_EXPRESSION_INDEX} ON conversation_messages "
    "USING gin (to_tsvector('english', content))",
]
PG_EXPRESSION_DROP = [f"DROP INDEX IF EXISTS {PG_EXPRESSION_INDEX}"]

# PostgreSQL since 0008: the parsed text stored with the row (a generated column) and a GIN index
# on it, so that a match reads the stored lexemes instead of parsing the text again.
# - The vector also holds one lexeme naming the owner, OWNER_LEXEME (a space, "u", the user id):
#   search ANDs it into its query, so the GIN index alone finds the user's hits (no plan that
#   depends on statistics choosing between the user index and the text index). The parser
#   splits text at spaces, so no searched word can ever match it.
# - The input is capped so that no text can exceed the tsvector's 1 MB of lexemes ("string is too
#   long for tsvector" would fail the INSERT): 250,000 characters of at most 4 bytes stay below
#   it; the service keeps messages to MAX_CONTENT_CHARS (200,000), so it cuts nothing they write.
PG_TSV_COLUMN = "content_tsv"
PG_TSV_MAX_CHARS = 250_000
OWNER_LEXEME = "' u' || user_id::text"
PG_TSV_EXPRESSION = (
    f"array_to_tsvector(ARRAY[{OWNER_LEXEME}]) "
    f"|| to_tsvector('english', left(content, {PG_TSV_MAX_CHARS}))"
)
PG_FTS_INDEX = "ix_messages_content_tsv"
PG_CREATE = [
    f"ALTER TABLE conversation_messages ADD COLUMN IF NOT EXISTS {PG_TSV_COLUMN} tsvector "
    f"GENERATED ALWAYS AS ({PG_TSV_EXPRESSION}) STORED",
    f"CREATE INDEX IF NOT EXISTS {PG_FTS_INDEX} ON conversation_messages "
    f"USING gin ({PG_TSV_COLUMN})",
]
PG_INDEX_CREATE = PG_CREATE[1:]  # the index alone (bench/seed.py builds it after its COPY)
PG_DROP = [
    f"DROP INDEX IF EXISTS {PG_FTS_INDEX}",
    f"ALTER TABLE conversation_messages DROP COLUMN IF EXISTS {PG_TSV_COLUMN}",
]

SQLITE_FTS_TABLE = "messages_fts"

# External-content FTS5 table kept in step with conversation_messages by triggers.
SQLITE_CREATE = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {SQLITE_FTS_TABLE} USING fts5("
    "content, content='conversation_messages', content_rowid='id', tokenize='porter unicode61')",
    f"""CREATE TRIGGER IF NOT EXISTS messages_fts_ai AFTER INSERT ON conversation_messages BEGIN
        INSERT INTO {SQLITE_FTS_TABLE}(rowid, content) VALUES (new.id, new.content);
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS messages_fts_ad AFTER DELETE ON conversation_messages BEGIN
        INSERT INTO {SQLITE_FTS_TABLE}({SQLITE_FTS_TABLE}, rowid, content)
        VALUES ('delete', old.id, old.content);
    END""",
    f"""CREATE TRIGGER IF NOT EXISTS messages_fts_au
    AFTER UPDATE OF content ON conversation_messages BEGIN
        INSERT INTO {SQLITE_FTS_TABLE}({SQLITE_FTS_TABLE}, rowid, content)
        VALUES ('delete', old.id, old.content);
        INSERT INTO {SQLITE_FTS_TABLE}(rowid, content) VALUES (new.id, new.content);
    END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS messages_fts_au",
    "DROP TRIGGER IF EXISTS messages_fts_ad",
    "DROP TRIGGER IF EXISTS messages_fts_ai",
    f"DROP TABLE IF EXISTS {SQLITE_FTS_TABLE}",
]


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Hide the search objects above from Alembic's autogenerate comparison.

    The stored vector is hidden rather than declared in the models: the ORM then never loads
    it with a message, and SQLite (FTS5) has no such column.
    """
    if type_ == "table" and name and name.startswith(SQLITE_FTS_TABLE):
        return False
    if type_ == "column" and name == PG_TSV_COLUMN:
        return False
    return not (type_ == "index" and name in (PG_FTS_INDEX, PG_EXPRESSION_INDEX))
