"""CSV export: columns, injection guard, round trip through csv and pandas, streaming."""

from __future__ import annotations

import csv
import io
import json

import pandas as pd

from pa_core.service.export import CSV_COLUMNS, ROWS_PER_CHUNK

TRICKY = [
    "=1+2",
    "+SUM(A1)",
    "-5 apples",
    "@cmd",
    "\tindented",
    "\rcarriage",
    'quote " and, comma',
    "line one\nline two",
    "plain",
]


def _rows(chunks):
    return list(csv.reader(io.StringIO("".join(chunks))))


def test_export_columns_and_values(svc, alice):
    s = svc.create_session(user=alice, title="=Title")
    svc.add_message(s.session_id, user=alice, content="hi")
    svc.add_message(
        s.session_id,
        user=alice,
        role="assistant",
        content="84",
        tools_used=["calculator"],
        processing_time_ms=3,
        token_count=9,
        has_error=True,
        error_message="-oops",
    )
    rows = _rows(svc.export_csv(alice))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 3
    r = dict(zip(rows[0], rows[2], strict=True))
    assert r["session_id"] == s.session_id
    assert r["session_title"] == "'=Title"
    assert r["username"] == "alice"
    assert r["role"] == "assistant" and r["content"] == "84"
    assert json.loads(r["tools_used"]) == ["calculator"]
    assert r["processing_time_ms"] == "3" and r["token_count"] == "9"
    assert r["has_error"] == "true" and r["error_message"] == "'-oops"
    assert r["created_at"].endswith("+00:00")


def test_injection_guard_and_round_trip(svc, alice):
    s = svc.create_session(user=alice)
    for content in TRICKY:
        svc.add_message(s.session_id, user=alice, content=content)
    text = "".join(svc.export_csv(alice))
    contents = [r[6] for r in _rows([text])[1:]]
    expected = [("'" + c) if c[0] in "=+-@\t\r" else c for c in TRICKY]
    assert contents == expected
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    assert list(frame.columns) == list(CSV_COLUMNS)
    assert frame["content"].tolist() == expected


def test_export_selected_sessions_only_own(svc, alice, bob):
    a1 = svc.create_session(user=alice)
    a2 = svc.create_session(user=alice)
    b1 = svc.create_session(user=bob)
    svc.add_message(a1.session_id, user=alice, content="a1")
    svc.add_message(a2.session_id, user=alice, content="a2")
    svc.add_message(b1.session_id, user=bob, content="b1")
    assert [r[6] for r in _rows(svc.export_csv(alice, [a2.session_id]))[1:]] == ["a2"]
    assert [r[6] for r in _rows(svc.export_csv(alice, [b1.session_id, "junk"]))[1:]] == []
    assert [r[6] for r in _rows(svc.export_csv(alice))[1:]] == ["a1", "a2"]
    assert len(_rows(svc.export_csv(alice, []))) == 1


def test_export_streams_in_chunks(svc, alice):
    s = svc.create_session(user=alice)
    n = ROWS_PER_CHUNK * 2 + 7
    for i in range(n):
        svc.add_message(s.session_id, user=alice, content=f"message {i}")
    seen = []
    chunks = list(svc.export_csv(alice, progress=seen.append))
    assert len(chunks) == 1 + 3  # header, then one chunk per batch of rows
    assert sum(seen) == n
    assert len(_rows(chunks)) == n + 1
    assert svc.count_messages(alice) == n


def test_export_generator_can_be_abandoned(svc, alice):
    s = svc.create_session(user=alice)
    for i in range(5):
        svc.add_message(s.session_id, user=alice, content=f"m{i}")
    gen = svc.export_csv(alice)
    next(gen)
    next(gen)
    gen.close()
    svc.add_message(s.session_id, user=alice, content="still writable")
    assert len(svc.get_messages(s.session_id, user=alice)) == 6


def test_export_abandoned_mid_stream_leaves_the_connection_usable(db_url, tmp_path):
    """Closing the iterator while rows are still streaming (PostgreSQL: mid-COPY) loses nothing
    and leaves the only pooled connection healthy."""
    from datetime import UTC, datetime

    from sqlalchemy import insert

    import pa_core
    from pa_core.db import create_db_engine
    from pa_core.models import ConversationMessage

    engine = create_db_engine(db_url, pool_size=1, max_overflow=0)
    try:
        svc = pa_core.ConversationService(engine)
        user = svc.ensure_user("streamer")
        s = svc.create_session(user=user)
        rows = [
            {
                "session_id": s.session_id,
                "user_id": user.id,
                "role": "user",
                "content": f"{i} " + "x" * 2000,
                "tools_used": [],
                "has_error": False,
                "created_at": datetime.now(UTC),
            }
            for i in range(ROWS_PER_CHUNK * 8)
        ]
        with engine.begin() as conn:
            conn.execute(insert(ConversationMessage.__table__), rows)
        for _ in range(2):
            chunks = svc.export_csv(user)
            assert next(chunks).startswith("session_id,")
            next(chunks)
            chunks.close()
            assert svc.count_messages(user) == len(rows)
        svc.add_message(s.session_id, user=user, content="after the abandoned exports")
        assert len(_rows(svc.export_csv(user))) == len(rows) + 2
    finally:
        engine.dispose()


def test_export_is_byte_identical_on_both_backends(sqlite_template, pg_databases, tmp_path):
    """PostgreSQL formats the CSV server-side (COPY); it must match the Python path exactly."""
    import shutil
    from datetime import UTC, datetime

    from sqlalchemy import insert

    import pa_core
    from pa_core.db import create_db_engine
    from pa_core.models import ConversationMessage, ConversationSession

    sqlite_path = tmp_path / "same.db"
    shutil.copy(sqlite_template, sqlite_path)
    urls = [f"sqlite:///{sqlite_path}", pg_databases.migrated()]
    sessions = [
        ("0b6a4a8e-1d1f-4c3e-9a59-6f2f7a1c0001", None, datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("0b6a4a8e-1d1f-4c3e-9a59-6f2f7a1c0002", "=Sum", datetime(2026, 1, 2, 3, 4, 6, 7, UTC)),
    ]
    contents = ["line one\r\nline two", 'quote " and, comma', "-5 apples", "émoji 🚀", "@x"]
    outputs = []
    for url in urls:
        engine = create_db_engine(url)
        try:
            svc = pa_core.ConversationService(engine)
            user = svc.ensure_user("+bob")
            with engine.begin() as conn:
                for sid, title, when in sessions:
                    conn.execute(
                        insert(ConversationSession.__table__).values(
                            session_id=sid,
                            user_id=user.id,
                            title=title,
                            created_at=when,
                            last_activity_at=when,
                        )
                    )
                for i, content in enumerate(contents, start=1):
                    conn.execute(
                        insert(ConversationMessage.__table__).values(
                            id=i,
                            session_id=sessions[i % 2][0],
                            user_id=user.id,
                            role="assistant" if i % 2 else "user",
                            content=content,
                            tools_used=['calc "x"', "ünï"] if i == 1 else [],
                            processing_time_ms=i if i % 2 else None,
                            token_count=10 * i if i == 3 else None,
                            has_error=i == 5,
                            error_message="-boom" if i == 5 else None,
                            created_at=datetime(2026, 1, 2, 3, 4, 10 + i, (i % 2) * 123, UTC),
                        )
                    )
            outputs.append("".join(svc.export_csv(user)))
        finally:
            engine.dispose()
    assert outputs[0] == outputs[1]
    rows = _rows([outputs[0]])
    assert len(rows) == 1 + len(contents)
    assert rows[1][2] == "'+bob" and rows[1][4] == "2026-01-02T03:04:12+00:00"
    assert {r[1] for r in rows[1:]} == {"", "'=Sum"}
