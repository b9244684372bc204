"""The demo outbox page: what `services.notifier` sends shows up at /demo/outbox, readable on a phone."""

from __future__ import annotations

import secrets
from datetime import timedelta

from playwright.sync_api import expect

from fuzzydice.services import get_services

PHONE = {"width": 390, "height": 844}
NO_SIDEWAYS_SCROLL_JS = (
    "() => document.documentElement.scrollWidth <= window.innerWidth"
    " && document.body.scrollWidth <= window.innerWidth"
)
CUT_OFF_JS = """() => [...document.querySelectorAll('.outbox-message, .outbox-message *')]
  .filter((el) => el.scrollWidth > el.clientWidth + 1 || el.getBoundingClientRect().right > window.innerWidth + 1)
  .map((el) => `${el.tagName}.${el.className}`)"""
"""Parts of a message wider than their box or the screen: clipped or scrolled text a reader cannot see."""


def test_sent_messages_are_listed_newest_first_at_phone_width(browser, backend_url, app_clock):
    marker = secrets.token_hex(4)
    link = f"https://demo.example/confirm?token={'a1' * 60}"  # one long word: it must wrap, not widen the page
    notifier = get_services().notifier
    assert notifier.send_sms("+442079460958", f"SMS {marker}: your code is 271 828").ok
    app_clock.advance(timedelta(seconds=1))
    assert notifier.send_mail(
        f"ada-{marker}@example.com",
        f"Confirm your email {marker}",
        f"Your code is 493 817.\n{link}",
        html=f'<p id="injected-{marker}">Your code</p><img src="x" onerror="window.fdPwned = 1">',
    ).ok

    context = browser.new_context(viewport=PHONE)
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.goto(backend_url + "/demo/outbox")
        expect(page.get_by_role("heading", name="Demo outbox")).to_be_visible()
        ours = page.locator(".outbox-message").filter(has_text=marker)
        expect(ours).to_have_count(2)
        newest, older = ours.nth(0), ours.nth(1)
        expect(newest.get_by_role("heading", name=f"Confirm your email {marker}")).to_be_visible()
        expect(newest).to_contain_text(f"ada-{marker}@example.com")
        expect(newest).to_contain_text("Your code is 493 817.")
        expect(newest).to_contain_text(link)
        expect(newest).to_contain_text("Email")
        expect(older).to_contain_text(f"SMS {marker}: your code is 271 828")
        expect(older).to_contain_text("+442079460958")
        expect(older).to_contain_text("SMS")

        newest.get_by_text("HTML version (shown as text)").click()
        expect(newest).to_contain_text(f'<p id="injected-{marker}">')  # the markup as text ...
        assert page.locator(f"#injected-{marker}").count() == 0  # ... never rendered
        assert page.evaluate("() => window.fdPwned") is None

        assert page.evaluate(NO_SIDEWAYS_SCROLL_JS), page.evaluate(
            "() => [document.documentElement.scrollWidth, window.innerWidth]"
        )
        assert page.evaluate(CUT_OFF_JS) == []
        assert errors == []
    finally:
        context.close()


def test_refresh_shows_a_message_sent_after_the_page_opened(page, backend_url, app_clock):
    page.goto(backend_url + "/demo/outbox")
    expect(page.get_by_role("heading", name="Demo outbox")).to_be_visible()
    marker = secrets.token_hex(4)
    app_clock.advance(timedelta(seconds=1))
    assert get_services().notifier.send_sms("+15555550123", f"late {marker}").ok
    page.get_by_role("button", name="Refresh").click()
    expect(page.locator(".outbox-message").first).to_contain_text(f"late {marker}")
