"""The admin page in a real browser: add a user, they log in, disable them, their login fails;
a non-admin never sees the page; the audit log shows what happened."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_helpers import CHAT_INPUT, PASSWORDS, TIMEOUT_MS, login, screenshot, wait_idle
from playwright.sync_api import expect

import pa_core

pytestmark = pytest.mark.browser
DANA_PW = "dana-browser-pw-1"


def _open_admin(page) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Admin").click()
    page.wait_for_function("() => location.pathname === '/admin'")
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    wait_idle(page)


def _log_in_as(page, base: str, username: str, password: str) -> None:
    page.goto(base + "/")
    page.get_by_role("textbox", name="Username", exact=True).fill(username, timeout=TIMEOUT_MS)
    page.get_by_role("textbox", name="Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()


def _grid(page, index: int):
    """The cells of the page's `index`-th dataframe (Streamlit draws them on a canvas; this is
    the accessible table beside it)."""
    return page.get_by_test_id("stDataFrame").nth(index).locator("table").first


def test_admin_adds_then_disables_a_user(browser, pg_app):
    server, url = pg_app
    admin_ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    dana_ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    admin, dana = admin_ctx.new_page(), dana_ctx.new_page()
    try:
        login(admin, server.url, "alice")
        _open_admin(admin)
        form = admin.get_by_test_id("stForm").filter(has_text="Add user")
        form.get_by_role("textbox", name="Username", exact=True).fill("dana")
        form.get_by_role("textbox", name="Display name (optional)").fill("Dana New")
        form.get_by_role("textbox", name="Password (at least 8 characters)").fill(DANA_PW)
        form.get_by_role("textbox", name="Repeat password").fill(DANA_PW)
        form.get_by_role("button", name="Add user").click()
        expect(admin.get_by_text("Added dana. They can log in now.")).to_be_visible()
        wait_idle(admin)
        expect(_grid(admin, 0)).to_contain_text("Dana New")
        expect(_grid(admin, 0)).to_contain_text("Bob User")  # a login that never logged in

        # dana logs in, has no Admin page, and the URL shows her nothing of it
        _log_in_as(dana, server.url, "dana", DANA_PW)
        expect(dana.get_by_placeholder(CHAT_INPUT)).to_be_visible()
        wait_idle(dana)
        nav = dana.get_by_test_id("stSidebarNav")
        expect(nav.get_by_role("link", name="Chat")).to_be_visible()
        expect(nav.get_by_role("link", name="Admin")).to_have_count(0)
        dana.goto(server.url + "/admin")
        expect(dana.get_by_text("Page not found")).to_be_visible()  # Streamlit's own notice
        expect(dana.get_by_placeholder(CHAT_INPUT)).to_be_visible()  # and the chat instead
        wait_idle(dana)
        expect(dana.get_by_text("Audit log")).to_have_count(0)
        expect(dana.get_by_text("Manage a user")).to_have_count(0)
        screenshot(dana, "admin-url-as-non-admin")

        # the admin disables dana
        chooser = admin.get_by_role("combobox", name="User")
        chooser.click()
        chooser.fill("dana")
        admin.get_by_role("option", name="dana", exact=True).click()
        wait_idle(admin)
        admin.get_by_role("button", name="Disable account").click()
        expect(admin.get_by_text("dana is disabled.")).to_be_visible()
        wait_idle(admin)
        for text in ("user disabled", "user added", "dana"):
            expect(_grid(admin, 1)).to_contain_text(text)
        expect(_grid(admin, 0)).to_contain_text("disabled")
        with admin.expect_download() as download:
            admin.get_by_role("button", name="Download audit log (CSV)").click()
        csv_text = Path(download.value.path()).read_text(encoding="utf-8")
        assert csv_text.startswith("id,at,actor_username,action,target,details")
        assert ",alice,user.disable,dana," in csv_text and DANA_PW not in csv_text
        admin.set_viewport_size({"width": 1280, "height": 2300})  # the whole page in one shot
        expect(_grid(admin, 1)).to_contain_text("user disabled")
        screenshot(admin, "admin-desktop")

        # dana's open session ends at her next click; a new login is refused, saying why
        dana.goto(server.url + "/")
        expect(
            dana.get_by_text("This account is disabled. Ask your administrator.")
        ).to_be_visible()
        expect(dana.get_by_placeholder(CHAT_INPUT)).to_have_count(0)
        _log_in_as(dana, server.url, "dana", DANA_PW)
        expect(
            dana.get_by_text("This account is disabled. Ask your administrator.")
        ).to_be_visible()
        expect(dana.get_by_placeholder(CHAT_INPUT)).to_have_count(0)
        screenshot(dana, "admin-disabled-login")

        svc = pa_core.ConversationService.from_url(url)
        events = [
            (e.actor_username, e.action, e.target) for e in svc.audit_events(svc.get_user("alice"))
        ]
        assert events[:2] == [("alice", "user.disable", "dana"), ("alice", "user.add", "dana")]
    finally:
        admin_ctx.close()
        dana_ctx.close()


def test_admin_page_on_a_phone(browser, pg_app):
    server, _url = pg_app
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = ctx.new_page()
    try:
        login(page, server.url, "alice")
        page.goto(server.url + "/admin")
        expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
        wait_idle(page)
        expect(_grid(page, 0)).to_contain_text("alice")
        expect(page.get_by_role("combobox", name="User")).to_have_value("alice")
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390 + 1  # nothing wider than the phone
        screenshot(page, "admin-mobile")
        page.get_by_role("heading", name="Audit log").scroll_into_view_if_needed()
        expect(_grid(page, 1)).to_contain_text("user added")
        screenshot(page, "admin-mobile-audit")
    finally:
        ctx.close()


def test_a_user_never_sees_the_admin_page(browser, pg_app):
    server, _url = pg_app
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    try:
        login(page, server.url, "bob")
        expect(page.get_by_test_id("stSidebarNav").get_by_role("link", name="Admin")).to_have_count(
            0
        )
        page.goto(server.url + "/admin")
        wait_idle(page)
        expect(page.get_by_text("Audit log")).to_have_count(0)
        assert PASSWORDS["bob"] not in page.content()
    finally:
        ctx.close()
