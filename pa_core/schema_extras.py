"""Full-text search objects the ORM models cannot declare (created by the migrations)."""

from __future__ import annotations

from typing import Any

PG_FTS_INDEX = "ix_messages_content_fts"
SQLITE_FTS_TABLE = "messages_fts"

PG_CREATE = [
    f"CREATE INDEX IF NOT EXISTS {PG_FTS_INDEX} ON conversation_messages "
    "USING gin (to_tsvector('english', content))",
]
PG_DROP = [f"DROP INDEX IF EXISTS {PG_FTS_INDEX}"]

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
    """Hide the search objects above from Alembic's autogenerate comparison."""
    if type_ == "table" and name and name.startswith(SQLITE_FTS_TABLE):
        return False
    return not (type_ == "index" and name == PG_FTS_INDEX)
