"""The production build serves the landing page in a real browser."""

import re

from playwright.sync_api import expect


def test_landing_explains_and_leads_to_sign_in_and_registration(page, base_url):
    page.goto(base_url + "/")
    expect(page.get_by_role("heading", name="Two-factor sign-in you host yourself")).to_be_visible()
    page.get_by_role("link", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/register/?$"))
    page.goto(base_url + "/")
    page.get_by_role("link", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/login/?$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
