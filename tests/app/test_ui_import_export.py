"""The import/export helpers of ui/ that need no running app: names, report lines, progress."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from ui import format as fmt
from ui import import_export as ie

NOW = datetime(2026, 12, 1, 9, 5, tzinfo=UTC)


def test_slug_is_safe_ascii_with_a_fallback():
    assert fmt.slug("Trip: Rome / Naples!", fallback="x") == "trip-rome-naples"
    assert fmt.slug("Crème brûlée", fallback="x") == "creme-brulee"
    assert fmt.slug("../../etc/passwd", fallback="x") == "etc-passwd"
    assert fmt.slug("東京", fallback="chat-1234") == "chat-1234"
    assert fmt.slug(None, fallback="chat-1234") == "chat-1234"
    assert len(fmt.slug("a" * 300, fallback="x")) == 60


def test_selected_label_names_the_format():
    assert fmt.selected_label(0, "JSON") == "Download JSON (all sessions)"
    assert fmt.selected_label(2, "JSON") == "Download JSON (2 selected sessions)"


def _report(imported, skipped, messages, warnings=()):
    return SimpleNamespace(
        sessions_imported=imported,
        sessions_skipped=skipped,
        messages_imported=messages,
        warnings=list(warnings),
    )


def test_report_headlines():
    done = ie.report_summary(_report(2, 1, 7), "conversations.json")
    assert ie.report_headline(done) == (
        "success",
        "Imported 2 conversation(s) with 7 message(s) from conversations\\.json. "
        "1 conversation(s) were already here and were skipped.",
    )
    again = ie.report_summary(_report(0, 3, 0), "x.zip")
    assert ie.report_headline(again) == (
        "info",
        "Nothing new in x\\.zip: 3 conversation(s) were imported before.",
    )
    empty = ie.report_summary(_report(0, 0, 0), "x.json")
    assert ie.report_headline(empty)[0] == "info"
    failed = {"file": "x.json", "error": "The file is not JSON."}
    assert ie.report_headline(failed) == (
        "error",
        "Nothing was imported from x\\.json: The file is not JSON.",
    )


def test_report_summary_keeps_only_the_first_warnings():
    summary = ie.report_summary(_report(1, 0, 2, [f"w{i}" for i in range(500)]), "f.json")
    assert summary["warnings_total"] == 500
    assert summary["warnings"] == [f"w{i}" for i in range(ie.MAX_WARNINGS_KEPT)]


class _Status:
    def __init__(self):
        self.labels = []

    def update(self, label=None, state=None):
        self.labels.append(label)


def test_progress_callback_counts_conversations(monkeypatch):
    status = _Status()
    advance = ie.progress_callback(status, "conversations.json")
    monkeypatch.setattr(ie, "PROGRESS_EVERY_S", 0)
    advance(1)
    advance(1234)
    assert status.labels == [
        "Importing conversations.json… 1 conversation(s) so far",
        "Importing conversations.json… 1,234 conversation(s) so far",
    ]
