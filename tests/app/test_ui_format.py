"""ui.format and ui.exports: the page helpers that need no running app."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

from pa_core.records import DailyMetrics, MessageRecord, SessionMetrics, UserMetrics
from ui import exports
from ui import format as fmt


def _message(**kw) -> MessageRecord:
    base = dict(
        id=1, session_id="s", user_id=1, role="assistant", content="x", tools_used=None,
        processing_time_ms=None, token_count=None, has_error=False, error_message=None,
        message_metadata=None, created_at=datetime(2026, 11, 24, 8, 15, 30, tzinfo=UTC),
    )  # fmt: skip
    base.update(kw)
    return MessageRecord(**base)


def _metrics(**kw) -> SessionMetrics:
    base = dict(
        since=datetime(2026, 11, 1, tzinfo=UTC), until=datetime(2026, 11, 3, tzinfo=UTC),
        sessions=2, sessions_created=2, messages=6, user_messages=3, assistant_messages=3,
        active_days=2, messages_per_session=3.0, processing_time_mean_ms=12.345,
        processing_time_p95_ms=20.0, errors=1, error_rate=1 / 3, total_tokens=99,
        tool_usage={"calculator": 2, "=cmd|' /C calc'!A0": 1},
        daily=[DailyMetrics(date(2026, 11, 1), 1, 4, 0, 10.0),
               DailyMetrics(date(2026, 11, 2), 1, 2, 1, None)],
        per_user=[UserMetrics("@alice", 2, 6, 1, 99)],
    )  # fmt: skip
    base.update(kw)
    return SessionMetrics(**base)


def test_message_caption():
    m = _message(
        tools_used=["calculator", "get_datetime"], processing_time_ms=1530, token_count=1234
    )
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    assert fmt.message_caption(m, now=now) == (
        "tools: calculator, get_datetime · 1.5 s · 1,234 tokens · 08:15"
    )
    assert fmt.message_caption(_message(processing_time_ms=7), now=now) == "7 ms · 08:15"
    # Outside a script run there is no browser zone: UTC. A later day says which day.
    later = datetime(2026, 12, 20, tzinfo=UTC)
    assert fmt.message_caption(_message(), now=later) == "24 Nov 08:15"
    assert fmt.format_timestamp(_message().created_at) == "2026-11-24 08:15 UTC"


def test_titles():
    assert fmt.session_title(None) == "New chat"
    assert fmt.session_title("") == "New chat"
    assert fmt.session_title("Trip") == "Trip"
    assert fmt.md_text("**a** ![x](u) <b>") == "\\*\\*a\\*\\* \\!\\[x\\]\\(u\\) \\<b\\>"


def test_date_range_bounds_are_half_open_utc_days():
    since, until = fmt.date_range_bounds(date(2026, 11, 3), date(2026, 11, 1))
    assert since == datetime(2026, 11, 1, tzinfo=UTC)
    assert until == datetime(2026, 11, 4, tzinfo=UTC)


def test_metrics_csv_has_every_section_and_neutralises_formulas():
    text = exports.metrics_csv(_metrics(), scope="everyone")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["section", "key", "metric", "value"]
    sections = {r[0] for r in rows[1:]}
    assert sections == {"range", "summary", "daily", "tool_usage", "per_user"}
    assert ["summary", "", "messages", "6"] in rows
    assert ["summary", "", "processing time mean (ms)", "12.3"] in rows
    assert ["daily", "2026-11-02", "processing_time_mean_ms", ""] in rows
    assert ["tool_usage", "'=cmd|' /C calc'!A0", "uses", "1"] in rows
    assert ["per_user", "'@alice", "messages", "6"] in rows


def test_labels_and_bytes():
    assert fmt.selected_label(0) == "Download CSV (all sessions)"
    assert fmt.selected_label(1) == "Download CSV (1 selected session)"
    assert fmt.selected_label(3) == "Download CSV (3 selected sessions)"
    data = exports.csv_bytes(["a,b\r\n", "ü,1\r\n"])
    assert data == "a,b\r\nü,1\r\n".encode()  # UTF-8 without a BOM, as the README says
    name = exports.metrics_file_name("Alice", "everyone", date(2026, 1, 2), date(2026, 1, 31))
    assert name == "alice-analytics-everyone-2026-01-02-to-2026-01-31.csv"


def test_file_names_say_what_they_hold():
    now = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)
    sid = "3f2a1b9c-0000-4000-8000-000000000000"
    one = exports.session_export_name("alice", "Weekend in Lisbon", sid, "csv", now=now)
    assert one == "alice-weekend-in-lisbon-2026-12-01.csv"
    every = exports.selection_export_name("alice", 0, "csv", now=now)
    assert every == "alice-all-conversations-2026-12-01.csv"
    assert exports.selection_export_name("Carol", 3, "json", now=now) == (
        "carol-3-conversations-2026-12-01.json"
    )
    assert exports.selection_export_name("bob", 1, "csv", now=now) == (
        "bob-1-conversation-2026-12-01.csv"
    )
    # A title that reads like the all-sessions or a selection name never takes that name.
    for title in ("All conversations", "all-conversations", "3 conversations", "Analytics"):
        name = exports.session_export_name("alice", title, sid, "csv", now=now)
        assert name not in (every, exports.selection_export_name("alice", 3, "csv", now=now))
        assert "3f2a1b9c" in name
    assert exports.session_export_name("alice", None, sid, "md", now=now) == (
        "alice-chat-3f2a1b9c-2026-12-01.md"
    )
    assert exports.session_export_name("../x", "東京", sid, "md", now=now) == (
        "x-chat-3f2a1b9c-2026-12-01.md"
    )


def test_no_remote_images_turns_images_into_links():
    text = "a ![x](http://evil.example/p.png) b ![y][ref] c [ok](http://a.example) d !e"
    out = fmt.no_remote_images(text)
    assert "![" not in out.replace("\\![", "")
    assert out.count("\\![") == 2 and "[ok](http://a.example)" in out and "!e" in out


def test_no_remote_images_escapes_every_unescaped_image_opener():
    assert fmt.no_remote_images("![a](u) ![b][r] ![c]") == "\\![a](u) \\![b][r] \\![c]"
    # An escaped backslash before `![` must not swallow the escape added for the image.
    assert fmt.no_remote_images("\\\\![x](u)") == "\\\\\\![x](u)"
    assert fmt.no_remote_images("\\![x](u)") == "\\![x](u)"  # already escaped


def test_no_remote_images_stream_catches_images_split_across_chunks():
    stream = fmt.no_remote_images_stream(["![", "pixel", "](", "http://t/p.gif", ")"])
    assert "".join(stream) == "\\![pixel](http://t/p.gif)"
    for chunks in (["a!", "[x](u)"], ["a\\", "\\", "!", "[x](u)"], ["a!", "!", "[x](u) b!"]):
        joined = "".join(chunks)
        assert "".join(fmt.no_remote_images_stream(chunks)) == (fmt.no_remote_images(joined)), (
            chunks
        )
    assert list(fmt.no_remote_images_stream(["hi ", "there!"])) == ["hi ", "there", "!"]
    assert list(fmt.no_remote_images_stream([])) == []


def test_literal_markdown_keeps_urls_and_addresses_from_becoming_links():
    from ui.session_search import WORD_JOINER, literal

    out = literal("see http://evil.example, www.evil.com or a@b.com *now*")
    assert "http:" + WORD_JOINER + "//" in out and "w" + WORD_JOINER + "ww" in out
    assert "@" + WORD_JOINER + "b" in out and "\\*now\\*" in out
    assert out.replace(WORD_JOINER, "").replace("\\", "") == (
        "see http://evil.example, www.evil.com or a@b.com *now*"
    )
