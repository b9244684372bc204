"""End to end: the pages' sign-up, sign-in and sign-out leave audit entries with the browser's user agent."""

from __future__ import annotations

from playwright.sync_api import expect

from fuzzydice import audit
from fuzzydice.auth.account_status import find_account
from fuzzydice.services import get_services
from tests.e2e.journeys import SCAN, register, sign_in_password, sign_out


def test_the_pages_record_who_signed_up_in_and_out_and_from_which_browser(page, base_url):
    account = register(page, base_url)
    expect(page).to_have_url(SCAN)
    user_agent = page.evaluate("navigator.userAgent")
    sign_out(page)
    right = account.password
    account.password = "not the password at all"
    sign_in_password(page, base_url, account)
    expect(page.get_by_role("alert")).to_have_text("Email or password is incorrect.")
    account.password = right
    sign_in_password(page, base_url, account, path="")
    expect(page).to_have_url(SCAN)

    services = get_services()
    with services.db() as session:
        user_id = find_account(session, account.email)
    entries = list(reversed(audit.events(services, user_id)))
    assert [(e.action, e.result) for e in entries] == [
        ("registered", "ok"), ("sign_out", "ok"), ("sign_in", "failed"), ("sign_in", "ok"),
    ]
    assert {e.user_agent for e in entries} == {user_agent} and "Chrome" in user_agent
    assert all(e.ip for e in entries)
    assert entries[1].session_id is not None  # the session the sign-out ended
    assert entries[2].details == entries[3].details == {"method": "password"}
