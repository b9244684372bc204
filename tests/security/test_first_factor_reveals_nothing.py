"""Attack review #7, finding 6: a first factor alone revealed too much.

A wallet signature alone (no second factor) filled the session state with the
account's email, name and last sign-in. A pending (first-factor-only) session now
gets nothing of the account but what the second step needs.

What the second step does need stays: `/login/scan` shows the enrolment QR, whose
otpauth label is the account's email (or name), so the authenticator app can tell
accounts apart. Only an account without a second factor reaches that page, and such
an account has only the identity its first factor just proved: an email and password
are added, or a wallet linked, only on /user/security, behind a full session. So the
label tells a password user the email they typed, and a wallet user no email at all.
"""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.journeys import HOME, LOGIN, VERIFY, register_and_enrol, sign_in, sign_in_password, sign_out
from tests.e2e.wallets import link_wallet, wallet_sign_in
from tests.security.tab_state import (
    SESSION_STATE,
    SHOWN_TIME,
    ReceivedFrames,
    found_in,
    server_state,
    state_of,
)

NAME = "Philippa Marchbanks-Yew"


def assert_pending_tab_knows_nothing(page, frames: ReceivedFrames, mark: int, account, app_harness, backend_call) -> None:
    expect(page).to_have_url(VERIFY)
    frames.wait_until_hydrated(page, mark, "/login/verify")
    dump = server_state(app_harness, backend_call, page)
    assert state_of(dump, SESSION_STATE).get("_level") == 1, "this tab holds a first-factor session"
    account_data = {"email": account.email, "name": NAME}
    for where, text in (("received", frames.text_since(mark)), ("held on the server", repr(dump))):
        assert not found_in(text, account_data), f"the pending tab {where} {found_in(text, account_data)}"
        assert not SHOWN_TIME.search(text), f"the pending tab {where} the last sign-in"


def test_a_pending_session_sees_nothing_of_the_account(page, base_url, app_clock, app_harness, backend_call, wallet):
    frames = ReceivedFrames(page)
    account = register_and_enrol(page, base_url, app_clock, name=NAME)
    link_wallet(page, base_url, account, app_clock)
    # A second full sign-in, so that the account has a last sign-in to give away.
    page.goto(f"{base_url}/user/home")
    sign_out(page)
    sign_in(page, base_url, account, app_clock)
    expect(page).to_have_url(HOME)
    expect(page.locator("#last-sign-in")).to_contain_text("UTC")
    expect(page.get_by_text(NAME)).to_be_visible()

    # The wallet signature alone.
    sign_out(page)
    mark = frames.mark()
    wallet_sign_in(page, base_url)
    assert_pending_tab_knows_nothing(page, frames, mark, account, app_harness, backend_call)

    # The password alone.
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(LOGIN)
    mark = frames.mark()
    sign_in_password(page, base_url, account)
    assert_pending_tab_knows_nothing(page, frames, mark, account, app_harness, backend_call)
