"""The chat list beside the chat, local times, logout and the phone layout, in a real browser.

One `streamlit run app.py` on PostgreSQL for the module. alice gets 60 chats spread over
today, yesterday, three days ago and last month (their times set in the database), so the
day groups and "More" paging have something to show.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from browser_helpers import (
    CHAT_INPUT,
    SCREENSHOTS,
    TIMEOUT_MS,
    login,
    screenshot,
    send,
    session_id_of,
)
from browser_helpers import wait_idle as _wait_idle
from playwright.sync_api import expect

import pa_core
from ui import sidebar

pytestmark = pytest.mark.browser

TOKYO = ZoneInfo("Asia/Tokyo")
CHATS = 60
CODE_LINE = "x = " + " + ".join(f"value_{i}" for i in range(60))


def wait_idle(page) -> None:
    """Wait for the run the last action started, and for the page to settle after it."""
    page.wait_for_timeout(150)  # a click's rerun may not have started yet
    _wait_idle(page)


@pytest.fixture(scope="module")
def seeded(pg_app):
    """alice's 60 titled chats (newest first: 10 today, 5 yesterday, 5 three days ago, rest
    a month ago) and a chat with a long code line; returns {title: session_id}."""
    _, url = pg_app
    svc = pa_core.ConversationService.from_url(url)
    alice = svc.ensure_user("alice")
    ids: dict[str, str] = {}
    now = datetime.now(UTC)
    engine = sa.create_engine(url)
    for i in range(CHATS):
        title = f"Seed chat {i:02d}"
        s = svc.create_session(user=alice, title=title)
        svc.add_message(s.session_id, user=alice, content=f"hello {i}")
        ids[title] = s.session_id
        rank = CHATS - 1 - i  # 0 = newest
        if rank < 10:
            when = now - timedelta(minutes=rank + 1)
        elif rank < 15:
            when = now - timedelta(days=1, minutes=rank)
        elif rank < 20:
            when = now - timedelta(days=3, minutes=rank)
        else:
            when = now - timedelta(days=30, minutes=rank)
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "UPDATE conversation_sessions SET last_activity_at = :t WHERE session_id = :s"
                ),
                {"t": when, "s": s.session_id},
            )
    code = svc.create_session(user=alice, title="Code sample")
    svc.add_message(code.session_id, user=alice, content="Show me a long line")
    svc.add_message(
        code.session_id,
        user=alice,
        role="assistant",
        content=f"Here it is:\n\n```python\n{CODE_LINE}\n```\n\n" + "word " * 80,
    )
    ids["Code sample"] = code.session_id
    engine.dispose()
    return ids


@pytest.fixture(scope="module")
def tokyo_page(browser, pg_app, seeded):
    """alice's tab in a browser whose time zone is Asia/Tokyo."""
    server, _ = pg_app
    context = browser.new_context(viewport={"width": 1280, "height": 900}, timezone_id="Asia/Tokyo")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    login(page, server.url, "alice")
    wait_idle(page)
    yield page
    context.close()


def side(page):
    return page.get_by_test_id("stSidebar")


def row(page, sid: str):
    return page.locator(f".st-key-pa-side-row-{sid}")


def open_chat(page, title: str) -> None:
    side(page).get_by_role("button", name=title, exact=True).click()
    expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible()
    wait_idle(page)


def menu(page, sid: str):
    """Open a row's ⋯ menu; the popover's body (any menu still open is closed first)."""
    open_bodies = page.get_by_test_id("stPopoverBody").locator("visible=true")
    if open_bodies.count():
        page.keyboard.press("Escape")
        expect(open_bodies).to_have_count(0)
    row(page, sid).get_by_test_id("stPopoverButton").locator("visible=true").click()
    body = page.get_by_test_id("stPopoverBody").locator("visible=true")
    expect(body).to_have_count(1)
    wait_idle(page)
    expect(body).to_have_count(1)  # a rerun while it opened may show a second copy for a moment
    return body


def test_click_opens_a_chat_and_back_forward_move_between_chats(tokyo_page, seeded):
    page = tokyo_page
    for group in ("Today", "Yesterday", "Previous 7 days", "Older"):
        expect(side(page).get_by_text(group, exact=True)).to_be_visible()
    open_chat(page, "Seed chat 59")
    assert session_id_of(page.url) == seeded["Seed chat 59"]
    open_chat(page, "Seed chat 55")
    assert session_id_of(page.url) == seeded["Seed chat 55"]
    # The current chat is highlighted (the secondary, bordered button).
    current = row(page, seeded["Seed chat 55"]).get_by_role("button", name="Seed chat 55")
    expect(current).to_have_attribute("kind", "secondary")
    page.go_back()
    expect(page.get_by_role("heading", name="Seed chat 59", exact=True)).to_be_visible()
    wait_idle(page)
    assert session_id_of(page.url) == seeded["Seed chat 59"]
    page.go_forward()
    expect(page.get_by_role("heading", name="Seed chat 55", exact=True)).to_be_visible()
    wait_idle(page)
    assert session_id_of(page.url) == seeded["Seed chat 55"]
    screenshot(page, "sidebar-01-desktop")
    side(page).screenshot(path=str(SCREENSHOTS / "sidebar-02-desktop-list.png"))


def test_more_loads_the_next_page(tokyo_page, seeded):
    page = tokyo_page
    rows = page.locator("[class*='st-key-pa-side-row-']")
    expect(rows).to_have_count(sidebar.PAGE)
    page.locator(".st-key-pa-side-more").get_by_role("button").click()
    expect(rows).to_have_count(2 * sidebar.PAGE)
    wait_idle(page)
    page.locator(".st-key-pa-side-more").get_by_role("button").click()
    expect(rows).to_have_count(CHATS + 1)  # every chat, the code sample too
    wait_idle(page)
    expect(page.locator(".st-key-pa-side-more").get_by_role("button")).to_have_count(0)


def test_filter_by_title(tokyo_page, seeded):
    page = tokyo_page
    box = side(page).get_by_placeholder("Filter chats by title")
    box.fill("chat 3")
    box.press("Enter")
    rows = page.locator("[class*='st-key-pa-side-row-']")
    expect(rows).to_have_count(10)  # Seed chat 30..39
    wait_idle(page)
    assert all("chat 3" in t for t in rows.all_inner_texts())
    box.fill("no such chat")
    box.press("Enter")
    expect(side(page).get_by_text("No chat matches that filter.")).to_be_visible()
    box.fill("")
    box.press("Enter")
    expect(rows).to_have_count(sidebar.PAGE)
    wait_idle(page)


def test_pin_moves_a_chat_into_pinned(tokyo_page, pg_app, seeded):
    page = tokyo_page
    sid = seeded["Seed chat 50"]
    body = menu(page, sid)
    screenshot(page, "sidebar-07-row-menu")
    body.get_by_role("button", name="Pin").click()
    pinned = side(page).get_by_text("Pinned", exact=True)
    expect(pinned).to_be_visible()
    wait_idle(page)
    top = page.locator("[class*='st-key-pa-side-row-']").first
    assert f"st-key-pa-side-row-{sid}" in top.get_attribute("class")
    today_y = side(page).get_by_text("Today", exact=True).bounding_box()["y"]
    assert pinned.bounding_box()["y"] < row(page, sid).bounding_box()["y"] < today_y
    svc = pa_core.ConversationService.from_url(pg_app[1])
    assert svc.get_session(sid, user=svc.get_user("alice")).pinned is True


def test_rename_cuts_a_pasted_long_title_with_a_notice(tokyo_page, pg_app, seeded):
    page = tokyo_page
    sid = seeded["Seed chat 58"]
    body = menu(page, sid)
    body.get_by_role("button", name="Rename").click()
    wait_idle(page)
    box = page.get_by_test_id("stPopoverBody").locator("visible=true").get_by_label("New title")
    box.fill("Long " * 80)  # 400 characters
    expect(box).to_have_value("Long " * 80)
    page.get_by_test_id("stPopoverBody").locator("visible=true").get_by_role(
        "button", name="Save"
    ).click()
    expect(side(page).get_by_text("The title was cut to 255 characters.")).to_be_visible()
    wait_idle(page)
    svc = pa_core.ConversationService.from_url(pg_app[1])
    title = svc.get_session(sid, user=svc.get_user("alice")).title
    assert len(title) == 255 and title.startswith("Long Long") and title.endswith("…")
    screenshot(page, "sidebar-03-renamed")


def test_archive_and_delete_with_confirmation(tokyo_page, pg_app, seeded):
    page = tokyo_page
    svc = pa_core.ConversationService.from_url(pg_app[1])
    alice = svc.get_user("alice")
    archived, deleted = seeded["Seed chat 57"], seeded["Seed chat 56"]
    menu(page, archived).get_by_role("button", name="Archive").click()
    expect(row(page, archived)).to_have_count(0)
    wait_idle(page)
    assert svc.get_session(archived, user=alice).is_active is False
    body = menu(page, deleted)
    body.get_by_role("button", name="Delete").click()
    wait_idle(page)
    confirm = page.get_by_test_id("stPopoverBody").locator("visible=true")
    expect(confirm.get_by_text("This cannot be undone.")).to_be_visible()
    assert svc.get_session(deleted, user=alice) is not None  # nothing deleted yet
    confirm.get_by_role("button", name="Delete for good").click()
    expect(row(page, deleted)).to_have_count(0)
    wait_idle(page)
    assert svc.get_session(deleted, user=alice) is None


def test_captions_show_the_browsers_local_time(tokyo_page, browser, pg_app):
    page = tokyo_page
    side(page).get_by_role("button", name="New chat").click()
    wait_idle(page)
    send(page, "What is 6 * 7?", "42")
    svc = pa_core.ConversationService.from_url(pg_app[1])
    alice = svc.get_user("alice")
    reply = svc.get_messages(session_id_of(page.url), user=alice)[-1]
    tokyo = reply.created_at.astimezone(TOKYO).strftime("%H:%M")
    utc = reply.created_at.astimezone(UTC).strftime("%H:%M")
    assert tokyo != utc
    caption = page.get_by_test_id("stChatMessage").last.get_by_test_id("stCaptionContainer")
    expect(caption).to_contain_text(tokyo)
    expect(caption).not_to_contain_text(utc)
    expect(page.get_by_text(" JST").first).to_be_visible()  # "started ... JST" above the chat
    screenshot(page, "sidebar-04-tokyo-time")
    # The same chat in a browser set to UTC shows the UTC time.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, timezone_id="UTC")
    other = context.new_page()
    login(other, pg_app[0].url, "alice")
    other.goto(page.url)
    caption = other.get_by_test_id("stChatMessage").last.get_by_test_id("stCaptionContainer")
    expect(caption).to_contain_text(utc)
    context.close()


def test_phone_layout_code_wraps_in_its_bubble_and_sidebar_is_a_drawer(browser, pg_app, seeded):
    server, _ = pg_app
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, timezone_id="Asia/Tokyo", is_mobile=True,
        has_touch=True, device_scale_factor=2,
    )  # fmt: skip
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    login(page, server.url, "alice")
    page.goto(f"{server.url}/?session_id={seeded['Code sample']}")
    expect(page.get_by_role("heading", name="Code sample")).to_be_visible()
    wait_idle(page)
    expect(page.get_by_test_id("stSidebar")).to_have_attribute("data-collapsed", "true")
    expect(page.get_by_test_id("stChatMessage").locator("pre").first).to_be_visible()
    screenshot(page, "sidebar-05-mobile-chat")
    sizes = page.evaluate(
        """() => ({
            page: document.documentElement.scrollWidth,
            width: window.innerWidth,
            pre: [...document.querySelectorAll('[data-testid="stChatMessage"] pre')].map(
                p => ({right: p.getBoundingClientRect().right, scroll: p.scrollWidth,
                       client: p.clientWidth})),
        })"""
    )
    assert sizes["page"] <= sizes["width"], sizes
    assert sizes["pre"], sizes
    for pre in sizes["pre"]:
        assert pre["right"] <= sizes["width"], sizes  # the block ends inside the screen
        assert pre["scroll"] <= pre["client"] + 1, sizes  # the long line wraps: nothing hidden
    page.get_by_test_id("stExpandSidebarButton").click()
    expect(side(page).get_by_role("button", name="New chat")).to_be_visible()
    page.wait_for_timeout(500)  # the drawer's slide-in animation
    page.screenshot(path=str(SCREENSHOTS / "sidebar-06-mobile-drawer.png"))
    open_chat(page, "Seed chat 59")
    context.close()


def test_logout_then_another_user_lands_on_a_fresh_chat(browser, pg_app, seeded):
    server, url = pg_app
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    login(page, server.url, "alice")
    page.goto(f"{server.url}/?session_id={seeded['Seed chat 59']}")
    expect(page.get_by_role("heading", name="Seed chat 59")).to_be_visible()
    wait_idle(page)
    side(page).get_by_role("button", name="Log out").click()
    user_box = page.get_by_role("textbox", name="Username", exact=True)
    expect(user_box).to_be_visible()
    assert session_id_of(page.url) is None, page.url
    user_box.fill("bob")
    page.get_by_role("textbox", name="Password", exact=True).fill("bob-browser-pw")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_placeholder(CHAT_INPUT)).to_be_visible()
    wait_idle(page)
    expect(page.get_by_text("conversation was not found")).to_have_count(0)
    sid = session_id_of(page.url)
    assert sid and sid != seeded["Seed chat 59"]
    svc = pa_core.ConversationService.from_url(url)
    assert svc.get_session(sid, user=svc.get_user("alice")) is None
    expect(side(page).get_by_text("Seed chat", exact=False)).to_have_count(0)
    context.close()
