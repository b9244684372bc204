"""The production build serves the landing page in a real browser."""

from playwright.sync_api import expect


def test_landing_shows_heading(page, base_url):
    page.goto(base_url + "/")
    expect(page.get_by_role("heading", name="Fuzzy Dice")).to_be_visible()
