"""The floor (raw driver) and the peers, each behind the same small interface."""

from __future__ import annotations

import csv
import json
import re
import sqlite3
import uuid
import warnings
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from pa_core.db import create_db_engine
from pa_core.records import MessageRecord

LOAD_COLUMNS = ", ".join(MessageRecord._fields)  # every column of conversation_messages
INSERT_COLUMNS = MessageRecord._fields[1:12]  # what a message carries (client_id, feedback: NULL)
EXPORT_QUERY = """
    SELECT m.session_id, s.title, u.username, m.id, m.created_at, m.role, m.content, m.tools_used,
           m.processing_time_ms, m.token_count, m.has_error, m.error_message
      FROM conversation_messages m
      JOIN conversation_sessions s ON s.session_id = m.session_id
      JOIN users u ON u.id = s.user_id
     WHERE m.user_id = {uid}
     ORDER BY s.created_at, s.id, m.id
"""


class CountingSink:
    """A file-like object that only counts what is written (export throughput without a disk)."""

    def __init__(self):
        self.chars = 0

    def write(self, data) -> int:
        """Count and drop."""
        self.chars += len(data)
        return len(data)


def sqlite_path(url: str) -> str:
    """The file path of a sqlite:/// URL."""
    return make_url(url).database


# The plain-table floor: the same columns as conversation_messages, no index but the key.
PLAIN_TABLE = """CREATE TABLE IF NOT EXISTS floor_plain_messages ({id}, session_id VARCHAR(36),
    user_id INTEGER, role VARCHAR(16), content TEXT, tools_used TEXT, processing_time_ms INTEGER,
    token_count INTEGER, has_error BOOLEAN, error_message TEXT, message_metadata TEXT,
    created_at TIMESTAMP)"""
PLAIN_ID_PG = "id BIGSERIAL PRIMARY KEY"
PLAIN_ID_SQLITE = "id INTEGER PRIMARY KEY AUTOINCREMENT"


class Floor:
    """What the database itself allows: one raw driver connection, hand-written SQL."""

    def __init__(self, url: str):
        self.url = url
        self.sqlite = url.startswith("sqlite")
        # Counted like our own rows: an explicit BEGIN [IMMEDIATE] is a statement (SQLite),
        # COMMIT and psycopg2's implicit BEGIN are not.
        begin = 1 if self.sqlite else 0
        self.statements = {"append": begin + 1, "turn": begin + 2, "load": 1, "export": 1}
        if self.sqlite:
            self.conn = sqlite3.connect(sqlite_path(url), isolation_level=None, timeout=30)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.ph = "?"
        else:
            import psycopg2

            u = make_url(url)
            self.conn = psycopg2.connect(
                host=u.host, port=u.port or 5432, user=u.username, password=u.password,
                dbname=u.database, options="-c timezone=UTC",
            )  # fmt: skip
            self.ph = "%s"
        self.insert_sql = (
            f"INSERT INTO conversation_messages ({', '.join(INSERT_COLUMNS)}) "
            f"VALUES ({', '.join([self.ph] * len(INSERT_COLUMNS))})"
        )
        self._plain = False
        self.load_sql = (
            f"SELECT {LOAD_COLUMNS} FROM conversation_messages WHERE session_id = {self.ph} "
            "ORDER BY id"
        )

    def _row(self, sid: str, uid: int, role: str, content: str) -> tuple:
        now = datetime.now(UTC)
        if self.sqlite:
            now = now.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
        return (sid, uid, role, content, "[]", None, None, False, None, None, now)

    def append(self, sid: str, uid: int, content: str) -> None:
        """INSERT one message; COMMIT."""
        cur = self.conn.cursor()
        if self.sqlite:
            cur.execute("BEGIN IMMEDIATE")
        cur.execute(self.insert_sql, self._row(sid, uid, "user", content))
        self.conn.commit() if not self.sqlite else cur.execute("COMMIT")

    def append_plain(self, sid: str, uid: int, content: str) -> None:
        """INSERT one message into a plain table (primary key only, no other index); COMMIT."""
        cur = self.conn.cursor()
        if not self._plain:
            cur.execute(PLAIN_TABLE.format(id=PLAIN_ID_SQLITE if self.sqlite else PLAIN_ID_PG))
            self._plain = True
        if self.sqlite:
            cur.execute("BEGIN IMMEDIATE")
        cur.execute(self.insert_sql.replace("conversation_messages", "floor_plain_messages", 1),
                    self._row(sid, uid, "user", content))  # fmt: skip
        self.conn.commit() if not self.sqlite else cur.execute("COMMIT")

    def append_turn(self, sid: str, uid: int, user: str, assistant: str) -> None:
        """INSERT two messages; COMMIT once."""
        cur = self.conn.cursor()
        if self.sqlite:
            cur.execute("BEGIN IMMEDIATE")
        cur.execute(self.insert_sql, self._row(sid, uid, "user", user))
        cur.execute(self.insert_sql, self._row(sid, uid, "assistant", assistant))
        self.conn.commit() if not self.sqlite else cur.execute("COMMIT")

    def load(self, sid: str) -> list[tuple]:
        """SELECT the session's messages ORDER BY id, fetching tuples."""
        cur = self.conn.cursor()
        cur.execute(self.load_sql, (sid,))
        rows = cur.fetchall()
        if not self.sqlite:
            self.conn.commit()
        return rows

    def export(self, uid: int) -> int:
        """COPY ... TO STDOUT WITH CSV (PostgreSQL); raw cursor + csv module on SQLite."""
        sink = CountingSink()
        query = EXPORT_QUERY.format(uid=int(uid))
        if self.sqlite:
            writer = csv.writer(sink, lineterminator="\r\n")
            cur = self.conn.execute(query)
            while True:
                rows = cur.fetchmany(500)
                if not rows:
                    break
                writer.writerows(rows)
        else:
            cur = self.conn.cursor()
            cur.copy_expert(f"COPY ({query}) TO STDOUT WITH CSV", sink)
            self.conn.commit()
        return sink.chars

    def append_cte(self, sid: str, uid: int, content: str) -> None:
        """Our append statement (ownership check + session bump + insert), sent raw; COMMIT."""
        from pa_core.service.message_sql import PG_ADD_MESSAGE

        sql = re.sub(r"(?<!:):(\w+)", r"%(\1)s", str(PG_ADD_MESSAGE))
        row = self._row(sid, uid, "user", content)
        cur = self.conn.cursor()
        cur.execute(sql, dict(zip(INSERT_COLUMNS, row, strict=True)))
        cur.fetchone()
        self.conn.commit()

    def backend_pids(self) -> list[int]:
        """Server process ids of every connection to this database (PostgreSQL)."""
        if self.sqlite:
            return []
        cur = self.conn.cursor()
        cur.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        pids = [r[0] for r in cur.fetchall()]
        self.conn.commit()
        return pids

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()


class JsonDocStore:
    """One JSON document per chat, rewritten on every append (how Open WebUI stores chats)."""

    name = "JSON document per chat"

    def __init__(self, url: str):
        self.sqlite = url.startswith("sqlite")
        # SELECT (FOR UPDATE) + UPDATE, plus the explicit BEGIN IMMEDIATE on SQLite (see Floor)
        write = 3 if self.sqlite else 2
        self.statements = {"append": write, "turn": write, "load": 1}
        self.floor = Floor(url)  # same raw driver connection as the floor
        self.conn = self.floor.conn
        ph = self.floor.ph
        cur = self.conn.cursor()
        col = "TEXT" if self.sqlite else "JSON"
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS bench_json_chat (id VARCHAR(36) PRIMARY KEY, "
            f"user_id INTEGER, chat {col} NOT NULL, updated_at BIGINT)"
        )
        self._commit()
        self.get_sql = f"SELECT chat FROM bench_json_chat WHERE id = {ph}"
        self.lock_sql = self.get_sql + ("" if self.sqlite else " FOR UPDATE")
        self.put_sql = f"UPDATE bench_json_chat SET chat = {ph}, updated_at = {ph} WHERE id = {ph}"
        self.new_sql = f"INSERT INTO bench_json_chat VALUES ({ph}, {ph}, {ph}, {ph})"

    def _commit(self) -> None:
        if not self.sqlite:
            self.conn.commit()

    def create(self, messages: list[tuple[str, str]]) -> str:
        """A chat holding `messages` (role, content); returns its id."""
        chat_id = str(uuid.uuid4())
        doc = {"title": "chat", "messages": [_msg(r, c) for r, c in messages]}
        self.conn.cursor().execute(self.new_sql, (chat_id, 1, json.dumps(doc), _ts()))
        self._commit()
        return chat_id

    def _rewrite(self, chat_id: str, new: list[dict]) -> None:
        cur = self.conn.cursor()
        if self.sqlite:
            cur.execute("BEGIN IMMEDIATE")
        cur.execute(self.lock_sql, (chat_id,))
        raw = cur.fetchone()[0]
        doc = json.loads(raw) if isinstance(raw, str) else raw
        doc["messages"].extend(new)
        cur.execute(self.put_sql, (json.dumps(doc), _ts(), chat_id))
        self.conn.commit() if not self.sqlite else cur.execute("COMMIT")

    def append(self, chat_id: str, content: str) -> None:
        """Read the document, add one message, write the whole document back."""
        self._rewrite(chat_id, [_msg("user", content)])

    def append_turn(self, chat_id: str, user: str, assistant: str) -> None:
        """The same for a user + assistant pair."""
        self._rewrite(chat_id, [_msg("user", user), _msg("assistant", assistant)])

    def load(self, chat_id: str) -> list[dict]:
        """The chat's messages (parse the whole document)."""
        cur = self.conn.cursor()
        cur.execute(self.get_sql, (chat_id,))
        raw = cur.fetchone()[0]
        self._commit()
        doc = json.loads(raw) if isinstance(raw, str) else raw
        return doc["messages"]

    def close(self) -> None:
        """Close the connection."""
        self.floor.close()


def _msg(role: str, content: str) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "role": role, "content": content, "timestamp": _ts()}


def _ts() -> int:
    return int(datetime.now(UTC).timestamp())


def _lc_messages(messages: list[tuple[str, str]]):
    from langchain_core.messages import AIMessage, HumanMessage

    return [HumanMessage(c) if r == "user" else AIMessage(c) for r, c in messages]


class SqlChatHistoryPeer:
    """langchain_community SQLChatMessageHistory: as documented, or tuned (shared engine, index)."""

    statements: dict[str, int] = {}

    def __init__(self, url: str, *, tuned: bool, on_engine=None):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from langchain_community.chat_message_histories import SQLChatMessageHistory
        self.cls = SQLChatMessageHistory
        self.url = url
        self.tuned = tuned
        self.name = "SQLChatMessageHistory" + (" (tuned)" if tuned else " (as documented)")
        self.table = "message_store_tuned" if tuned else "message_store"
        # Tuned: one shared engine with this project's pragmas/pool; documented: a URL string.
        self.engine: Engine | None = create_db_engine(url) if tuned else None
        self.histories: dict[str, Any] = {}
        self.engines: list[Engine] = [] if self.engine is None else [self.engine]
        self.on_engine = on_engine or (lambda _engine: None)
        if self.engine is not None:
            self.on_engine(self.engine)

    def _history(self, chat_id: str):
        h = self.histories.get(chat_id)
        if h is None:
            conn = self.engine if self.tuned else self.url
            h = self.cls(session_id=chat_id, connection=conn, table_name=self.table)
            if not self.tuned:
                self.engines.append(h.engine)
                self.on_engine(h.engine)
            self.histories[chat_id] = h
        return h

    def create(self, messages: list[tuple[str, str]]) -> str:
        """A chat holding `messages`; returns its id."""
        chat_id = str(uuid.uuid4())
        h = self._history(chat_id)
        if self.tuned and len(self.histories) == 1:
            with self.engine.begin() as conn:
                index = f"ix_{self.table}_sid"
                conn.execute(
                    text(f"CREATE INDEX IF NOT EXISTS {index} ON {self.table} (session_id)")
                )
        for start in range(0, len(messages), 2000):
            h.add_messages(_lc_messages(messages[start : start + 2000]))
        return chat_id

    def append(self, chat_id: str, content: str) -> None:
        """add_message(HumanMessage)."""
        self._history(chat_id).add_message(_lc_messages([("user", content)])[0])

    def append_turn(self, chat_id: str, user: str, assistant: str) -> None:
        """add_messages([human, ai]) (one transaction)."""
        self._history(chat_id).add_messages(
            _lc_messages([("user", user), ("assistant", assistant)])
        )

    def load(self, chat_id: str) -> list:
        """.messages."""
        return self._history(chat_id).messages

    def close(self) -> None:
        """Dispose the engines."""
        for h in self.histories.values():
            h.session_maker.remove()
        for e in self.engines:
            e.dispose()


class LangchainPostgresPeer:
    """langchain-postgres PostgresChatMessageHistory over one psycopg 3 connection."""

    name = "langchain-postgres"
    statements = {"append": 1, "turn": 1, "load": 1}

    def __init__(self, url: str):
        import psycopg
        from langchain_postgres import PostgresChatMessageHistory

        self.cls = PostgresChatMessageHistory
        u = make_url(url)
        self.conn = psycopg.connect(
            host=u.host, port=u.port or 5432, user=u.username, password=u.password,
            dbname=u.database,
        )  # fmt: skip
        self.table = "lc_chat_history"
        PostgresChatMessageHistory.create_tables(self.conn, self.table)
        self.histories: dict[str, Any] = {}

    def _history(self, chat_id: str):
        h = self.histories.get(chat_id)
        if h is None:
            h = self.histories[chat_id] = self.cls(self.table, chat_id, sync_connection=self.conn)
        return h

    def create(self, messages: list[tuple[str, str]]) -> str:
        """A chat holding `messages`; returns its id."""
        chat_id = str(uuid.uuid4())
        h = self._history(chat_id)
        for start in range(0, len(messages), 2000):
            h.add_messages(_lc_messages(messages[start : start + 2000]))
        return chat_id

    def append(self, chat_id: str, content: str) -> None:
        """add_messages([HumanMessage])."""
        self._history(chat_id).add_messages(_lc_messages([("user", content)]))

    def append_turn(self, chat_id: str, user: str, assistant: str) -> None:
        """add_messages([human, ai])."""
        self._history(chat_id).add_messages(
            _lc_messages([("user", user), ("assistant", assistant)])
        )

    def load(self, chat_id: str) -> list:
        """get_messages(), then COMMIT: langchain-postgres leaves its read transaction open,
        which in one shared database held back the cleanup of every other writer's rows."""
        messages = self._history(chat_id).get_messages()
        self.conn.commit()
        return messages

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()


def make_peers(url: str, on_engine=None) -> tuple[list[Any], dict[str, str]]:
    """Every peer that can run on this backend, and why the others cannot."""
    peers: list[Any] = []
    missing: dict[str, str] = {}
    for name, factory in (
        (
            "SQLChatMessageHistory (as documented)",
            lambda: SqlChatHistoryPeer(url, tuned=False, on_engine=on_engine),
        ),
        (
            "SQLChatMessageHistory (tuned)",
            lambda: SqlChatHistoryPeer(url, tuned=True, on_engine=on_engine),
        ),
        ("langchain-postgres", lambda: LangchainPostgresPeer(url)),
        ("JSON document per chat", lambda: JsonDocStore(url)),
    ):
        if name == "langchain-postgres" and url.startswith("sqlite"):
            missing[name] = "PostgreSQL only"
            continue
        try:
            peers.append(factory())
        except ImportError as exc:
            missing[name] = (
                f"not installed ({exc.name}); pip install -r bench/requirements-bench.txt"
            )
    return peers, missing
