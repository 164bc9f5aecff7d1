"""The Sessions page and Analytics in a real browser.

Search grouped by conversation with highlighted, escaped matches; the query in the URL (`?q=`)
kept by Back and reproduced by a shared link; the archived and pinned filters; Analytics with a
year of data (seeded through the import, which keeps the original times) and with one day of
data, feedback counts shown. Screenshots at desktop (1280×900) and mobile (390×844) size.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from browser_helpers import TIMEOUT_MS, login, open_page, screenshot, send, wait_idle
from playwright.sync_api import expect

import pa_core
from support.dated_export import document, session, turn

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1280, "height": 900}
MOBILE = {"width": 390, "height": 844}
HOSTILE = "Tokyo <img src=x onerror=window.__pwned=1> [click](http://evil.example) <b>bold</b>"
HOSTILE_TITLE = "<img src=x onerror=window.__pwned=1> **Nagoya** [go](http://evil.example)"


@pytest.fixture(scope="module")
def seeded(browser, pg_app):
    """alice logged in (desktop) with a year of conversations imported; her page and service."""
    server, url = pg_app
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    login(page, server.url, "alice")
    svc = pa_core.ConversationService.from_url(url)
    alice = svc.get_user("alice")
    today = datetime.combine(datetime.now(UTC).date(), time(9), tzinfo=UTC)
    tokyo = []
    for i, text in enumerate(["Flights to Tokyo in May", "Hotels near Tokyo station", HOSTILE]):
        tokyo += turn(today - timedelta(days=3, minutes=-i), text, "noted", ms=8 + i)
    year = []
    for k in range(357, -1, -7):  # one turn a week over the last year, some rated, some failed
        year += turn(
            today - timedelta(days=k),
            f"weekly note {k}",
            "ok",
            ms=20 + k,
            tokens=100 if k % 28 == 0 else None,
            feedback=1 if k % 14 == 0 else (-1 if k % 21 == 0 else None),
            error="RateLimitError: 429 Too Many Requests" if k % 35 == 0 else None,
        )
    sessions = [
        session("Tokyo trip", tokyo),
        session(
            "Osaka",
            turn(today - timedelta(days=2), "Day trip from Osaka to Tokyo?", "ok"),
            pinned=True,
        ),  # fmt: skip
        session(
            "Old plans", turn(today - timedelta(days=200), "Tokyo in 2019", "ok"), active=False
        ),
        session("Weekly notes", year),
        session(HOSTILE_TITLE, turn(today - timedelta(days=5), "Nagoya to Tokyo by train", "ok")),
    ]
    report = svc.import_conversations(alice, document("alice", sessions))
    assert report.sessions_imported == 5
    yield page, server, svc, alice
    context.close()


def tall_screenshot(page, name: str, width: int) -> None:
    """The whole page at `width` (Streamlit scrolls inside its main area, so grow the window)."""
    size = page.viewport_size
    height = page.get_by_test_id("stMain").evaluate("e => e.scrollHeight")
    page.set_viewport_size({"width": width, "height": max(size["height"], height + 40)})
    wait_idle(page)
    screenshot(page, name)
    page.set_viewport_size(size)


def _query(page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def _metric(page, label: str):
    """The st.metric whose label is exactly `label`."""
    label_box = page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
    return page.get_by_test_id("stMetric").filter(has=label_box)


def _results(page):
    return page.locator("[class*='st-key-pa-result-']")


def test_search_groups_by_conversation_highlights_and_keeps_the_query_in_the_url(seeded):
    page, server, svc, alice = seeded
    page.goto(server.url + "/sessions")
    expect(page.get_by_role("heading", name="Sessions")).to_be_visible()
    wait_idle(page)
    screenshot(page, "30-sessions-desktop")
    box = page.get_by_role("textbox", name="Search messages")
    box.fill("tokyo")
    box.press("Enter")
    page.wait_for_function("() => new URLSearchParams(location.search).get('q') === 'tokyo'")
    wait_idle(page)
    # One card per conversation (the archived one is filtered out), not one per message.
    expect(_results(page)).to_have_count(3)
    trip = _results(page).filter(has_text="Tokyo trip")
    expect(trip).to_have_count(1)
    expect(trip.get_by_test_id("stMarkdownContainer").filter(has_text="Hotels near")).to_have_count(
        1
    )
    # The match is highlighted (bold on a background), the rest is plain text.
    expect(trip.locator("strong", has_text=re.compile("^Tokyo$")).first).to_be_visible()
    # Hostile HTML and markdown stay text: shown literally, no image element, no link, nothing ran.
    nagoya = _results(page).filter(has_text="Nagoya")
    expect(nagoya).to_have_count(1)
    shown = nagoya.locator("strong").first.inner_text().replace("\u2060", "")  # word joiners
    assert shown == HOSTILE_TITLE
    expect(page.locator("img[src='x']")).to_have_count(0)
    expect(page.locator("[class*='st-key-pa-result-'] a[href*='evil']")).to_have_count(0)
    assert page.evaluate("() => window.__pwned === undefined")
    expect(page.get_by_text("3 conversations match")).to_be_visible()
    screenshot(page, "31-sessions-search-desktop")

    # Open a result, then Back: the search is still there (query in the URL and in the box).
    trip.get_by_role("button", name="Open").click()
    page.wait_for_function("() => location.pathname === '/'")
    expect(
        page.get_by_test_id("stChatMessage").filter(has_text="Hotels near").first
    ).to_be_visible()
    wait_idle(page)
    page.go_back()
    page.wait_for_function("() => location.pathname === '/sessions'")
    page.wait_for_function("() => new URLSearchParams(location.search).get('q') === 'tokyo'")
    expect(page.get_by_role("textbox", name="Search messages")).to_have_value("tokyo")
    expect(_results(page)).to_have_count(3)
    wait_idle(page)
    assert "session_id" not in _query(page)


def test_a_shared_link_reproduces_the_search_and_filters(seeded, browser):
    page, server, *_ = seeded
    page.goto(server.url + "/sessions?q=tokyo&show=Archived")
    expect(page.get_by_role("textbox", name="Search messages")).to_have_value("tokyo")
    expect(_results(page)).to_have_count(1)
    expect(_results(page).first).to_contain_text("Old plans")
    expect(_results(page).first).to_contain_text("Archived")
    wait_idle(page)
    page.goto(server.url + "/sessions?q=tokyo&show=All&pinned=true")
    expect(_results(page)).to_have_count(1)
    expect(_results(page).first).to_contain_text("Osaka")
    expect(_results(page).first).to_contain_text("Pinned")
    wait_idle(page)


def test_archived_and_pinned_filters_of_the_list(seeded):
    page, server, svc, alice = seeded
    page.goto(server.url + "/sessions")
    expect(page.get_by_role("heading", name="Sessions")).to_be_visible()
    wait_idle(page)
    rows = page.locator("[class*='st-key-pa-open-']")
    expect(rows).to_have_count(4)  # all but the archived one
    page.get_by_test_id("stButtonGroup").get_by_text("Archived", exact=True).click()
    page.wait_for_function("() => new URLSearchParams(location.search).get('show') === 'Archived'")
    expect(rows).to_have_count(1)
    expect(page.get_by_text("Old plans")).to_be_visible()
    wait_idle(page)
    page.get_by_test_id("stButtonGroup").get_by_text("All", exact=True).click()
    expect(rows).to_have_count(5)
    wait_idle(page)
    page.get_by_text("Pinned only").click()
    page.wait_for_function("() => new URLSearchParams(location.search).has('pinned')")
    expect(rows).to_have_count(1)
    expect(page.get_by_text("Osaka", exact=True)).to_be_visible()
    wait_idle(page)
    screenshot(page, "32-sessions-pinned-filter")
    page.get_by_text("Pinned only").click()
    page.get_by_test_id("stButtonGroup").get_by_text("Active", exact=True).click()
    expect(rows).to_have_count(4)
    wait_idle(page)


def test_analytics_over_a_year(seeded):
    page, server, svc, alice = seeded
    page.goto(server.url + "/analytics")
    expect(page.get_by_role("heading", name="Analytics")).to_be_visible()
    wait_idle(page)
    page.get_by_test_id("stButtonGroup").get_by_text("Year", exact=True).click()
    expect(page.get_by_text(re.compile(r"365 day\(s\)"))).to_be_visible()
    wait_idle(page)
    metrics = svc.session_metrics(
        user=alice, since=datetime.now(UTC) - timedelta(days=364, hours=12)
    )
    assert metrics.feedback_up > 0 and metrics.feedback_down > 0
    feedback = _metric(page, "Feedback")
    expect(feedback).to_contain_text(f"{metrics.feedback_up} up · {metrics.feedback_down} down")
    tokens = _metric(page, "Tokens")
    expect(tokens).to_contain_text(f"{metrics.total_tokens:,}")
    # messages, reply time, feedback, errors per day, errors by kind, tokens (no tools used)
    charts = page.get_by_test_id("stVegaLiteChart")
    expect(charts).to_have_count(6)
    expect(page.get_by_text("No tools used in this range.")).to_be_visible()
    expect(charts.first.locator("canvas, svg").first).to_be_visible()
    screenshot(page, "33-analytics-year-desktop")
    tall_screenshot(page, "33-analytics-year-desktop-full", DESKTOP["width"])


def test_analytics_with_one_day_of_data_and_feedback(browser, pg_app):
    server, url = pg_app
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    login(page, server.url, "bob")
    send(page, "What is 12 * 7?", "84")
    send(page, "Tell me a joke", "PA_LLM_API_KEY")
    svc = pa_core.ConversationService.from_url(url)
    bob = svc.get_user("bob")
    sid = parse_qs(urlparse(page.url).query)["session_id"][0]
    replies = [m for m in svc.get_messages(sid, user=bob) if m.role == "assistant"]
    assert all(m.token_count is None for m in replies)  # offline: no made-up token counts
    svc.set_feedback(replies[0].id, user=bob, rating=1)
    svc.set_feedback(replies[1].id, user=bob, rating=-1)
    open_page(page, "Analytics", "/analytics")
    expect(_metric(page, "Messages")).to_contain_text("4")
    expect(_metric(page, "Feedback")).to_contain_text("1 up · 1 down")
    expect(_metric(page, "Tokens")).to_contain_text("—")
    # messages, reply time, feedback, tools (no errors, no tokens)
    expect(page.get_by_test_id("stVegaLiteChart")).to_have_count(4)
    expect(page.get_by_text("No failed replies in this range.").first).to_be_visible()
    wait_idle(page)
    screenshot(page, "34-analytics-one-day-desktop")
    tall_screenshot(page, "34-analytics-one-day-desktop-full", DESKTOP["width"])
    context.close()


def test_mobile_screenshots(browser, pg_app, seeded):
    server, _ = pg_app
    context = browser.new_context(viewport=MOBILE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    login(page, server.url, "alice")
    page.goto(server.url + "/sessions")
    expect(page.get_by_role("heading", name="Sessions")).to_be_visible()
    wait_idle(page)
    screenshot(page, "35-sessions-mobile")
    page.goto(server.url + "/sessions?q=tokyo")
    expect(_results(page)).to_have_count(3)
    wait_idle(page)
    screenshot(page, "36-sessions-search-mobile")
    tall_screenshot(page, "36-sessions-search-mobile-full", MOBILE["width"])
    page.goto(server.url + "/analytics")
    expect(page.get_by_test_id("stVegaLiteChart").first).to_be_visible()
    wait_idle(page)
    screenshot(page, "37-analytics-mobile")
    tall_screenshot(page, "37-analytics-mobile-full", MOBILE["width"])
    context.close()
