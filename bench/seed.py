"""Fast synthetic data: COPY (PostgreSQL) / executemany (SQLite) straight into the app's tables."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text

from pa_core.records import MessageRecord
from pa_core.schema_extras import SQLITE_CREATE

RARE_WORD = "quasarflux"
COMMON_WORD = "meeting"
PHRASE = "budget report"  # in 2% of messages: a phrase search past the recent window
PHRASE_EVERY = 50
TOOLS = ["calculator", "web_search", "datetime", "history_search", "session_stats"]
# BENCH_NOW (ISO, UTC): the "now" of an earlier seeding, when a kept database is measured again.
NOW = (
    datetime.fromisoformat(os.environ["BENCH_NOW"]).astimezone(UTC)
    if os.environ.get("BENCH_NOW")
    else datetime.now(UTC).replace(microsecond=0)
)

MESSAGE_COLUMNS = MessageRecord._fields[:12]  # seeded columns; client_id and feedback stay NULL
SEEDED_TABLES = ("users", "conversation_sessions", "conversation_messages")
SESSION_COLUMNS = (
    "id",
    "session_id",
    "user_id",
    "title",
    "is_active",
    "message_count",
    "created_at",
    "last_activity_at",
)


@dataclass
class Size:
    """How much data one benchmark size seeds (every size has the same shape)."""

    name: str
    filler_users: int
    filler_sessions: int
    filler_messages: int
    histories: tuple[int, ...]
    list_users: tuple[int, ...]
    exports: tuple[int, ...]
    old_sessions: int
    reps: int
    budget_s: float
    writers: int = 8
    writer_appends: int = 50
    target_total: int | None = None  # pad filler users until the table holds this many messages
    sections: tuple[str, ...] | None = None  # bench sections run by default (None: all)


SIZES = {
    "quick": Size("quick", 5, 4, 10, (10, 100, 1_000), (10, 100, 1_000), (500, 2_000), 200, 7, 1.0,
                  writer_appends=5),
    "small": Size("small", 100, 10, 20, (10, 100, 1_000, 10_000), (10, 1_000, 100_000),
                  (10_000, 100_000), 100_000, 60, 6.0),
    "medium": Size("medium", 100, 10, 20, (10, 100, 1_000, 10_000), (10, 1_000, 100_000),
                   (10_000, 100_000), 100_000, 60, 8.0, target_total=1_000_000),
    "large": Size("large", 100, 10, 20, (10, 100, 1_000, 10_000), (10, 1_000, 100_000),
                  (10_000, 100_000), 100_000, 30, 8.0, target_total=10_000_000,
                  sections=("search", "metrics", "sessions", "export")),
}  # fmt: skip


@dataclass
class Seeded:
    """What the seeding created: users by role in the benchmark, sessions by purpose."""

    users: dict[str, int] = field(default_factory=dict)
    history_sessions: dict[int, str] = field(default_factory=dict)  # size -> session_id
    export_users: dict[int, int] = field(default_factory=dict)  # messages -> user id
    list_users: dict[int, int] = field(default_factory=dict)  # sessions -> user id
    append_sessions: list[str] = field(default_factory=list)
    writer_sessions: list[str] = field(default_factory=list)
    search_user: int = 0
    total_messages: int = 0
    total_sessions: int = 0
    analyzed: bool = True  # False: seeded without VACUUM ANALYZE (tables have no statistics)
    phases: dict[str, float] = field(default_factory=dict)  # seconds per seeding step (PostgreSQL)


class ContentPool:
    """Deterministic message texts: mostly 0.2-1 KB, some 4 KB and 32 KB tool outputs."""

    def __init__(self, seed: int = 42):
        rng = random.Random(seed)
        syll = ["ka", "lo", "mi", "ter", "van", "sol", "ri", "pen", "do", "qua", "ne", "zu"]
        vocab = ["".join(rng.choice(syll) for _ in range(rng.randint(2, 4))) for _ in range(3000)]
        vocab += ["the", "report", "budget", "plan", "customer", "invoice", "travel", "draft"]

        def text_of(length: int, common: bool) -> str:
            words: list[str] = []
            size = 0
            while size < length:
                w = rng.choice(vocab)
                words.append(w)
                size += len(w) + 1
            if common:
                words.insert(rng.randrange(len(words)), COMMON_WORD)
            return " ".join(words)[:length]

        self.normal = [text_of(rng.randint(200, 1000), i % 4 == 0) for i in range(997)]
        self.medium = [text_of(4096, i % 4 == 0) for i in range(31)]
        self.large = [text_of(32768, i % 4 == 0) for i in range(7)]

    def content(self, i: int) -> str:
        """The text of global message number `i` (about 3% 4 KB, 0.4% 32 KB)."""
        if i % 250 == 7:
            return self.large[i % len(self.large)]
        if i % 33 == 5:
            return self.medium[i % len(self.medium)]
        return self.normal[i % len(self.normal)]


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


class Seeder:
    """Builds rows with explicit ids and writes them in bulk."""

    def __init__(self, engine: Engine, size: Size, *, analyze: bool = True):
        self.engine = engine
        self.analyze = analyze
        self.size = size
        self.sqlite = engine.dialect.name == "sqlite"
        self.rng = random.Random(7)
        self.pool = ContentPool()
        self.users: list[tuple] = []
        self.sessions: list[tuple] = []
        self.session_plan: list[tuple[str, int, datetime, int]] = []  # sid, uid, start, n
        self.next_user = 1
        self.next_session = 1
        self.result = Seeded(analyzed=analyze)
        self.rare_every = 1

    def user(self, name: str) -> int:
        """Add a user row; returns its id."""
        uid = self.next_user
        self.next_user += 1
        self.users.append((uid, name, name.title(), None, "user", NOW - timedelta(days=100)))
        self.result.users[name] = uid
        return uid

    def session(self, uid: int, n_messages: int, *, age_days: float | None = None) -> str:
        """Plan a session with `n_messages` messages, last active `age_days` ago."""
        sid = _uuid(self.rng)
        age = self.rng.uniform(0, 59) if age_days is None else age_days
        start = NOW - timedelta(days=age)
        last = start + timedelta(seconds=30 * max(n_messages - 1, 0))
        if last > NOW:
            start -= last - NOW
            last = NOW
        self.sessions.append(
            (self.next_session, sid, uid, f"Session {self.next_session}", True, n_messages,
             start, last)
        )  # fmt: skip
        self.next_session += 1
        self.session_plan.append((sid, uid, start, n_messages))
        return sid

    def plan(self) -> Seeded:
        """Decide every user and session of this size (no database work yet)."""
        s, r = self.size, self.result
        for u in range(s.filler_users):
            uid = self.user(f"filler{u:05d}")
            for _ in range(s.filler_sessions):
                self.session(uid, s.filler_messages)
        hist = self.user("hist")
        for n in s.histories:
            r.history_sessions[n] = self.session(hist, n)
        for _ in range(4):
            r.append_sessions.append(self.session(hist, 20, age_days=0))
        for _ in range(s.writers):
            r.writer_sessions.append(self.session(hist, 0, age_days=0))
        for n in s.list_users:
            uid = self.user(f"list{n}")
            r.list_users[n] = uid
            for _ in range(n):
                self.session(uid, 0)
        for n in s.exports:
            uid = self.user(f"export{n}")
            r.export_users[n] = uid
            per = min(n, 1000)
            for _ in range(n // per):
                self.session(uid, per)
        r.search_user = r.export_users[max(s.exports)]
        old = self.user("old")
        for _ in range(s.old_sessions):
            self.session(old, 1, age_days=200)
        planned = sum(p[3] for p in self.session_plan)
        if s.target_total and planned < s.target_total:
            per_user = s.filler_sessions * s.filler_messages
            extra = (s.target_total - planned + per_user - 1) // per_user
            for u in range(extra):
                uid = self.user(f"bulk{u:06d}")
                for _ in range(s.filler_sessions):
                    self.session(uid, s.filler_messages)
        r.total_messages = sum(p[3] for p in self.session_plan)
        r.total_sessions = len(self.sessions)
        # The rare word: about 20 messages in the whole table, half of them the search user's.
        self.rare_every = max(r.total_messages // 10, 1)
        return r

    def messages(self) -> Iterator[tuple]:
        """Every planned message row, with explicit ids, in session order."""
        mid = 0
        search_uid = self.result.search_user
        search_seen = 0
        for sid, uid, start, n in self.session_plan:
            for k in range(n):
                mid += 1
                content = self.pool.content(mid)
                if mid % PHRASE_EVERY == 11:
                    content = f"{PHRASE} {content}"
                if mid % self.rare_every == 3:
                    content = f"{content} {RARE_WORD}"
                if uid == search_uid:
                    search_seen += 1
                    if search_seen % (max(self.size.exports) // 10) == 1:
                        content = f"{content} {RARE_WORD}"
                assistant = k % 2 == 1
                tools = [TOOLS[mid % 5]] if assistant and mid % 3 == 0 else []
                error = assistant and mid % 97 == 3
                yield (
                    mid,
                    sid,
                    uid,
                    "assistant" if assistant else "user",
                    content,
                    json.dumps(tools),
                    200 + (mid * 37) % 3000 if assistant else None,
                    50 + (mid * 13) % 900 if assistant else None,
                    error,
                    "Upstream model returned 500" if error else None,
                    None,
                    start + timedelta(seconds=30 * k),
                )

    # -- writing -----------------------------------------------------------------------------

    def write(self) -> Seeded:
        """Write users, sessions and messages; rebuild search structures; analyze."""
        if self.sqlite:
            self._write_sqlite()
        else:
            self._write_pg()
        return self.result

    def _write_pg(self) -> None:
        raw = self.engine.raw_connection()
        try:
            cur = raw.cursor()
            # COPY into bare tables, then build each index once: maintaining the GIN and the
            # secondary indexes row by row costs several times more (indexes backing a primary
            # key or unique constraint stay: the bench relies on their checks).
            indexes = _secondary_indexes(cur, SEEDED_TABLES)
            if not self.analyze:  # autovacuum would analyze them within a minute
                for table in SEEDED_TABLES:
                    cur.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
            for name, _definition in indexes:
                cur.execute(f'DROP INDEX "{name}"')
            clock = _Clock(self.result.phases)
            self._copy(cur, "users", ("id", "username", "display_name", "email", "role",
                                      "created_at"), self.users)  # fmt: skip
            self._copy(cur, "conversation_sessions", SESSION_COLUMNS, self.sessions)
            # The metric roll-ups' invalidation trigger fires for every old row; the roll-ups
            # are empty while seeding, so it has nothing to invalidate (constraint triggers stay).
            cur.execute("ALTER TABLE conversation_messages DISABLE TRIGGER USER")
            self._copy(cur, "conversation_messages", MESSAGE_COLUMNS, self.messages())
            cur.execute("ALTER TABLE conversation_messages ENABLE TRIGGER USER")
            for table in SEEDED_TABLES:
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            raw.commit()
            clock.lap("copy")
            cur.execute("SET maintenance_work_mem = '512MB'")
            for _name, definition in indexes:
                cur.execute(definition)
            raw.commit()
            clock.lap("indexes")
            if self.analyze:
                raw.set_isolation_level(0)
                cur.execute("VACUUM ANALYZE")
                raw.set_isolation_level(1)
                clock.lap("vacuum_analyze")
        finally:
            raw.close()

    @staticmethod
    def _copy(cur, table: str, columns: tuple[str, ...], rows, batch: int = 20_000) -> None:
        sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)"
        buf = io.StringIO()
        writer = csv.writer(buf)
        for count, row in enumerate(rows, start=1):
            writer.writerow(
                tuple(
                    ("t" if v else "f") if isinstance(v, bool)
                    else v.isoformat() if isinstance(v, datetime) else v
                    for v in row
                )
            )  # fmt: skip
            if count % batch == 0:
                buf.seek(0)
                cur.copy_expert(sql, buf)
                buf.seek(0)
                buf.truncate(0)
        if buf.tell():
            buf.seek(0)
            cur.copy_expert(sql, buf)

    def _write_sqlite(self) -> None:
        raw = self.engine.raw_connection()
        try:
            dbapi = raw.driver_connection
            cur = dbapi.cursor()
            cur.execute("BEGIN IMMEDIATE")
            for trig in ("messages_fts_ai", "messages_fts_ad", "messages_fts_au"):
                cur.execute(f"DROP TRIGGER IF EXISTS {trig}")

            def conv(rows):
                for row in rows:
                    yield tuple(
                        v.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, datetime)
                        else v for v in row
                    )  # fmt: skip

            cur.executemany(
                "INSERT INTO users (id, username, display_name, email, role, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                conv(self.users),
            )
            cur.executemany(
                f"INSERT INTO conversation_sessions ({', '.join(SESSION_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(SESSION_COLUMNS))})",
                conv(self.sessions),
            )
            cur.executemany(
                f"INSERT INTO conversation_messages ({', '.join(MESSAGE_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(MESSAGE_COLUMNS))})",
                conv(self.messages()),
            )
            cur.execute("INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')")
            for statement in SQLITE_CREATE:
                if "TRIGGER" in statement:
                    cur.execute(statement)
            cur.execute("COMMIT")
            if self.analyze:
                cur.execute("ANALYZE")
        finally:
            raw.close()


class _Clock:
    """Seconds since the previous lap, stored under each lap's name."""

    def __init__(self, laps: dict[str, float]):
        self.laps = laps
        self.last = time.perf_counter()

    def lap(self, name: str) -> None:
        """Record the time since the previous lap as `name`."""
        now = time.perf_counter()
        self.laps[name] = round(now - self.last, 1)
        self.last = now


def _secondary_indexes(cur, tables: tuple[str, ...]) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the indexes on `tables` that back no constraint."""
    cur.execute(
        "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
        "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
        "WHERE t.relname = ANY(%s) AND t.relnamespace = 'public'::regnamespace "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid) "
        "ORDER BY i.relname",
        (list(tables),),
    )
    return [(name, definition) for name, definition in cur.fetchall()]


def seed(engine: Engine, size: Size, *, analyze: bool = True) -> Seeded:
    """Plan and write the synthetic data set of `size` into a migrated, empty database.

    `analyze=False` skips the final VACUUM ANALYZE (and, on PostgreSQL, turns autovacuum off
    for the seeded tables): they then have no statistics, as in a database that autovacuum has
    not visited yet.
    """
    seeder = Seeder(engine, size, analyze=analyze)
    seeder.plan()
    return seeder.write()


def plan_only(engine: Engine, size: Size) -> Seeded:
    """What seed() wrote into a kept database, planned again without writing anything (the plan
    is deterministic: a fixed random seed)."""
    return Seeder(engine, size).plan()


def check_seeded(engine: Engine, seeded: Seeded) -> int:
    """The number of messages in the table; fails when it is not what the seeding planned."""
    with engine.connect() as conn:
        actual = conn.execute(text("SELECT count(*) FROM conversation_messages")).scalar_one()
    if actual != seeded.total_messages:
        raise AssertionError(f"seeded {actual:,} messages, planned {seeded.total_messages:,}")
    return actual
