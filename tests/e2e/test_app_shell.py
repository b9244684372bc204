"""The app shell of the signed-in pages (header, nav, account menu, skip link), at desktop and phone
widths, and the styled 404 page."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.journeys import (
    HOME,
    LOGIN,
    REACT_READY_JS,
    open_account_menu,
    register_and_enrol,
)

SECURITY = re.compile(r"/user/security/?$")
NAV = [("Home", "/user/home"), ("Wallet", "/user/wallet"), ("Launch", "/launch"), ("Security", "/user/security")]
PHONE = {"width": 390, "height": 844}
NO_OVERFLOW_JS = "() => [document.documentElement.scrollWidth, document.body.scrollWidth]"


def assert_header(page, current: str) -> None:
    """Banner, main navigation and main landmarks; every nav link; only `current` marked as the page."""
    banner = page.get_by_role("banner")
    expect(banner).to_be_visible()
    expect(banner.get_by_role("link", name="Fuzzy Dice", exact=True)).to_have_attribute("href", "/user/home")
    nav = banner.get_by_role("navigation", name="Main")
    for label, href in NAV:
        link = nav.get_by_role("link", name=label, exact=True)
        expect(link).to_have_attribute("href", href)
        if label == current:
            expect(link).to_have_attribute("aria-current", "page")
        else:
            expect(link).not_to_have_attribute("aria-current", re.compile(".*"))
    expect(page.locator("[aria-current=page]")).to_have_count(1)
    expect(page.get_by_role("main").get_by_role("heading", level=1)).to_have_text(current)
    expect(banner.get_by_role("button", name="Account menu", exact=True)).to_be_visible()


def test_signed_in_pages_share_the_header_and_its_links_go_to_their_pages(page, base_url, app_clock):
    register_and_enrol(page, base_url, app_clock)
    assert_header(page, "Home")
    logo = page.get_by_role("banner").locator("#brand-logo")
    page.wait_for_function("() => document.querySelector('#brand-logo').complete")
    assert logo.evaluate("(image) => image.naturalWidth") > 0

    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Security", exact=True).click()
    expect(page).to_have_url(SECURITY)
    assert_header(page, "Security")
    nav.get_by_role("link", name="Home", exact=True).click()
    expect(page).to_have_url(HOME)
    assert_header(page, "Home")
    # The brand goes home too (from another page).
    page.goto(f"{base_url}/user/security")
    page.get_by_role("banner").get_by_role("link", name="Fuzzy Dice", exact=True).click()
    expect(page).to_have_url(HOME)


def test_the_account_menu_names_the_user_and_signs_out(page, base_url, app_clock):
    account = register_and_enrol(page, base_url, app_clock, name="Menu Person")
    page.goto(f"{base_url}/user/security")
    menu = open_account_menu(page)
    expect(menu.locator("#account-name")).to_have_text("Menu Person")
    expect(menu.locator("#account-email")).to_have_text(account.email)
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()

    open_account_menu(page).get_by_role("menuitem", name="Sign out").click()
    expect(page).to_have_url(LOGIN)
    # The session is gone, not just the page: a signed-in page sends the browser to sign in.
    page.goto(f"{base_url}/user/home")
    expect(page).to_have_url(re.compile(r"/login/?\?next="))


def test_the_skip_link_is_the_first_stop_and_moves_focus_to_main(page, base_url, app_clock):
    register_and_enrol(page, base_url, app_clock)
    page.reload()
    page.wait_for_function(REACT_READY_JS, arg="#account-menu-trigger")
    skip = page.get_by_role("link", name="Skip to content")
    assert skip.bounding_box()["x"] < 0  # off-screen until it has focus
    page.keyboard.press("Tab")
    expect(skip).to_be_focused()
    assert skip.bounding_box()["x"] >= 0
    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_be_focused()


def test_at_390_px_nothing_overflows_and_the_menus_work(browser, base_url, app_clock):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        register_and_enrol(page, base_url, app_clock, name="A Person With A Rather Long Name")
        for path in ("/user/home", "/user/security"):
            page.goto(base_url + path)
            page.wait_for_function(REACT_READY_JS, arg="#nav-menu-trigger")
            assert max(page.evaluate(NO_OVERFLOW_JS)) <= PHONE["width"], path
            # The nav links fold into the menu button; the header's buttons are inside the screen.
            nav = page.get_by_role("navigation", name="Main")
            expect(nav.get_by_role("link")).to_have_count(0)
            for name in ("Navigation menu", "Account menu"):
                box = page.get_by_role("button", name=name, exact=True).bounding_box()
                assert box is not None and 0 <= box["x"] and box["x"] + box["width"] <= PHONE["width"], (path, name)

        nav.get_by_role("button", name="Navigation menu", exact=True).click()
        menu = page.get_by_role("menu")
        expect(menu).to_be_visible()
        for label, href in NAV:
            expect(menu.get_by_role("menuitem", name=label, exact=True)).to_have_attribute("href", href)
        expect(menu.get_by_role("menuitem", name="Security", exact=True)).to_have_attribute("aria-current", "page")
        menu.get_by_role("menuitem", name="Home", exact=True).click()
        expect(page).to_have_url(HOME)
        expect(page.get_by_role("heading", level=1)).to_have_text("Home")
        assert max(page.evaluate(NO_OVERFLOW_JS)) <= PHONE["width"]

        menu = open_account_menu(page)
        box = menu.bounding_box()
        assert box is not None and 0 <= box["x"] and box["x"] + box["width"] <= PHONE["width"]
        expect(menu.locator("#account-name")).to_have_text("A Person With A Rather Long Name")
        menu.get_by_role("menuitem", name="Sign out").click()
        expect(page).to_have_url(LOGIN)
    finally:
        context.close()


def test_an_unknown_address_shows_the_styled_404_with_a_way_home(page, base_url, app_clock):
    register_and_enrol(page, base_url, app_clock)
    response = page.goto(f"{base_url}/no/such-page-here")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    expect(page).to_have_title("Page not found · Fuzzy Dice")
    logo = page.locator("#brand-logo")
    expect(logo).to_be_visible()
    page.wait_for_function("() => document.querySelector('#brand-logo').complete")
    assert logo.evaluate("(image) => image.naturalWidth") > 0
    expect(page).to_have_url(re.compile(r"/no/such-page-here/?$"))  # the address stays as typed
    page.get_by_role("link", name="Back to home").click()
    expect(page).to_have_url(HOME)
    expect(page.get_by_role("heading", level=1)).to_have_text("Home")


def test_an_unknown_address_without_a_session_asks_to_sign_in_first(page, base_url):
    page.goto(f"{base_url}/no/such-page-here")
    expect(page).to_have_url(re.compile(r"/login/?\?next=(%2F|/)no(%2F|/)such-page-here$"))
