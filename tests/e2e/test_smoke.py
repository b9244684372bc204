"""The production build serves the landing page in a real browser; the basic journey runs on both databases."""

import re

import sqlalchemy as sa
from playwright.sync_api import expect

from fuzzydice.services import get_services
from tests.e2e.journeys import HOME, register_and_enrol, sign_in, sign_out


def test_landing_explains_and_leads_to_sign_in_and_registration(page, base_url):
    page.goto(base_url + "/")
    expect(page.get_by_role("heading", name="Two-factor sign-in you host yourself")).to_be_visible()
    page.get_by_role("link", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/register/?$"))
    page.goto(base_url + "/")
    page.get_by_role("link", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/login/?$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_dark_mode_follows_the_system(browser, base_url):
    for scheme, expected in (("dark", True), ("light", False)):
        context = browser.new_context(color_scheme=scheme)
        try:
            page = context.new_page()
            page.goto(base_url + "/login")
            expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
            is_dark = page.evaluate(
                "() => document.documentElement.classList.contains('dark')"
                " || document.querySelector('.radix-themes')?.classList.contains('dark') || false"
            )
            assert is_dark is expected, scheme
        finally:
            context.close()


def test_forms_label_every_input_and_say_what_to_autofill(page, base_url):
    page.goto(base_url + "/login")
    expect(page.get_by_label("Email")).to_have_attribute("autocomplete", "username")
    expect(page.get_by_label("Password", exact=True)).to_have_attribute("autocomplete", "current-password")
    page.goto(base_url + "/register")
    expect(page.get_by_label("Name")).to_have_attribute("autocomplete", "name")
    expect(page.get_by_label("Email")).to_have_attribute("autocomplete", "username")
    expect(page.get_by_label("Password", exact=True)).to_have_attribute("autocomplete", "new-password")
    expect(page.get_by_label("Phone (optional)")).to_have_attribute("autocomplete", "tel")


def test_register_enrol_sign_out_and_sign_in_on_each_database(page, base_url, app_clock, app_database):
    services = get_services()
    assert services.settings.database_url == app_database
    with services.db() as session:
        users_before = session.execute(sa.text("SELECT count(*) FROM users")).scalar_one()

    account = register_and_enrol(page, base_url, app_clock)
    sign_out(page)
    sign_in(page, base_url, account, app_clock)
    expect(page).to_have_url(HOME)

    # The journey ran on this database: the account is a new row there, and so are its sessions.
    with services.db() as session:
        assert session.execute(sa.text("SELECT count(*) FROM users")).scalar_one() == users_before + 1
        user_id = session.execute(sa.text("SELECT max(id) FROM users")).scalar_one()
        sessions_of = sa.text("SELECT count(*) FROM auth_sessions WHERE user_id = :id")
        assert session.execute(sessions_of, {"id": user_id}).scalar_one() >= 1
