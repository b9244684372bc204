"""End to end: the security page needs a fresh second factor; identities link and work both ways."""

from __future__ import annotations

import re

from eth_account import Account as EthAccount
from playwright.sync_api import expect

from tests.e2e.journeys import (
    HOME,
    SCAN,
    VERIFY,
    Account,
    code_now,
    enrol,
    enter_code,
    register_and_enrol,
    sign_in,
    sign_in_password,
    sign_out,
)
from tests.e2e.journeys import confirm_with_code
from tests.e2e.wallets import wallet_sign_in, wallet_sign_in_with_code


def test_link_a_wallet_then_sign_in_both_ways(page, base_url, app_clock, wallet):
    account = register_and_enrol(page, base_url, app_clock, name="Both Ways")
    page.get_by_role("link", name="Security").click()
    # Nothing can be changed before a fresh second factor.
    expect(page.get_by_role("button", name="Link a wallet")).to_have_count(0)
    confirm_with_code(page, account, app_clock)
    page.get_by_role("button", name="Link a wallet").click()
    expect(page.get_by_role("status")).to_contain_text("Wallet linked")
    expect(page.locator(".linked-wallet")).to_have_text([wallet.address])

    # The wallet signs in to the same account, with the same second factor.
    page.goto(f"{base_url}/user/home")
    sign_out(page)
    wallet_sign_in_with_code(page, base_url, account.secret, app_clock)
    expect(page.get_by_text("Both Ways")).to_be_visible()
    # And the password still works.
    sign_out(page)
    sign_in(page, base_url, account, app_clock)
    expect(page.get_by_text("Both Ways")).to_be_visible()


def test_a_wallet_user_signs_again_and_gives_a_code(page, base_url, app_clock, wallet):
    wallet_sign_in(page, base_url)
    expect(page).to_have_url(SCAN)
    person = enrol(page, Account(email=""), app_clock)
    page.get_by_role("link", name="Security").click()
    # A code alone is not enough for a wallet account: the wallet signs a fresh message first.
    app_clock.advance(30)
    page.get_by_label("Authenticator code").fill(code_now(person.secret, app_clock))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("alert")).to_have_text("Sign the message with your wallet first, then enter the code.")
    signed_before = len(wallet.signed)
    page.get_by_role("button", name="Sign with your wallet").click()
    expect(page.get_by_role("status")).to_contain_text("Signed")
    assert len(wallet.signed) == signed_before + 1
    confirm_with_code(page, person, app_clock)
    # Now a password can be added; the wallet cannot be unlinked before that (last way in).
    expect(page.get_by_role("button", name=f"Unlink wallet {wallet.address}")).to_have_count(0)
    page.get_by_label("Email").fill(f"wallet-{wallet.address[2:10].lower()}@example.com")
    page.get_by_label("New password").fill("quiet harbor lantern 58")
    page.get_by_role("button", name="Add email and password").click()
    expect(page.get_by_role("status")).to_contain_text("Email and password added")
    expect(page.get_by_role("button", name=f"Unlink wallet {wallet.address}")).to_be_visible()


def test_two_wallets_each_with_its_own_unlink_and_the_other_still_signs_in(page, base_url, app_clock, wallet):
    account = register_and_enrol(page, base_url, app_clock, name="Two Wallets")
    page.goto(f"{base_url}/user/security")
    confirm_with_code(page, account, app_clock)
    page.get_by_role("button", name="Link a wallet").click()
    expect(page.get_by_role("status")).to_contain_text("Wallet linked")
    first = wallet.address
    wallet.account = EthAccount.create()  # the person switches to another account in the wallet
    second = wallet.address
    page.get_by_role("button", name="Link another wallet").click()
    expect(page.locator(".linked-wallet")).to_have_text([first, second])
    for address in (first, second):
        expect(page.get_by_role("button", name=f"Unlink wallet {address}")).to_be_visible()

    page.get_by_role("button", name=f"Unlink wallet {first}").click()
    expect(page.get_by_role("status")).to_contain_text("Wallet unlinked")
    expect(page.locator(".linked-wallet")).to_have_text([second])

    # The wallet that remains signs in to the account, with the same second factor.
    page.goto(f"{base_url}/user/home")
    sign_out(page)
    wallet_sign_in_with_code(page, base_url, account.secret, app_clock)
    expect(page.get_by_text("Two Wallets")).to_be_visible()


def test_new_authenticator_replaces_the_old_one(page, base_url, app_clock):
    account = register_and_enrol(page, base_url, app_clock)
    page.goto(f"{base_url}/user/security")
    confirm_with_code(page, account, app_clock)
    page.get_by_role("button", name="Set up a new authenticator").click()
    key = page.locator("#new-manual-key")
    expect(key).to_have_text(re.compile(r"^[A-Z2-7]{4}( [A-Z2-7]{4}){7}$"))
    new_secret = key.inner_text().replace(" ", "")
    assert new_secret != account.secret
    app_clock.advance(30)
    page.get_by_label("Code from the new authenticator").fill(code_now(new_secret, app_clock))
    page.get_by_role("button", name="Confirm new authenticator").click()
    expect(page.get_by_role("status")).to_contain_text("The old one no longer works")

    page.goto(f"{base_url}/user/home")
    sign_out(page)
    old_secret, account.secret = account.secret, new_secret
    sign_in_password(page, base_url, account)
    app_clock.advance(30)
    enter_code(page, code_now(old_secret, app_clock))
    expect(page.get_by_role("alert")).to_contain_text("That code is not right.")
    enter_code(page, code_now(new_secret, app_clock))
    expect(page).to_have_url(HOME)


def test_a_password_thief_locks_only_the_sign_in_step_and_the_owner_is_told(page, base_url, app_clock, browser):
    account = register_and_enrol(page, base_url, app_clock)
    thief = browser.new_context().new_page()
    try:
        sign_in_password(thief, base_url, account)
        expect(thief).to_have_url(VERIFY)
        right = code_now(account.secret, app_clock)
        wrong = f"{(int(right) + 1) % 1_000_000:06d}"
        for _ in range(5):
            enter_code(thief, wrong)
            expect(thief.get_by_role("alert")).to_contain_text("That code is not right.")
        expect(thief.get_by_role("alert")).to_contain_text("this step is locked for now. Try again in 15 minutes (at ")
        # A right code during the lock is not called wrong: the page says the step is locked and when it lifts.
        enter_code(thief, right)
        expect(thief.get_by_role("alert")).to_contain_text("this step is locked for now")
        expect(thief.get_by_role("alert")).not_to_contain_text("not right")
    finally:
        thief.context.close()
    # The owner, signed in here, is told, and can still confirm it's them on the security page.
    page.reload()
    alert = page.locator("#security-alerts")
    expect(alert).to_contain_text("someone signed in with your password from 127.0.0.1")
    page.goto(f"{base_url}/user/security")
    confirm_with_code(page, account, app_clock)
    page.goto(f"{base_url}/user/home")
    alert.get_by_role("button", name="Dismiss").click()
    expect(alert).to_have_count(0)
    page.reload()
    expect(page.get_by_role("button", name="Account menu")).to_be_visible()
    expect(alert).to_have_count(0)
