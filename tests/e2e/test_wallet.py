"""End to end: wallet sign-in with a test wallet injected into the page (EIP-1193, announced via EIP-6963).

The wallet's answers come from Python: `personal_sign` signs with an eth_account key
through `page.expose_function`, so the real page, server and verification run.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.journeys import HOME, SCAN, VERIFY, code_now, enrol, enter_code, sign_out, Account as Person
from tests.e2e.wallets import wallet_sign_in

def test_wallet_sign_in_enrols_then_signs_in_again(page, base_url, app_clock, wallet):
    wallet_sign_in(page, base_url)
    expect(page).to_have_url(SCAN)
    message = wallet.signed[-1]
    host = base_url.split("://", 1)[1]
    assert message.startswith(f"{host} wants you to sign in with your Ethereum account:\n{wallet.address}\n")
    assert "\nChain ID: 31337\n" in message and re.search(r"\nNonce: [A-Za-z0-9]{16,}\n", message)
    person = enrol(page, Person(email=""), app_clock)
    expect(page.get_by_text(f"Signed in as {wallet.address[:6]}…{wallet.address[-4:]}", exact=True)).to_be_visible()

    sign_out(page)
    wallet_sign_in(page, base_url)
    expect(page).to_have_url(VERIFY)
    app_clock.advance(30)
    enter_code(page, code_now(person.secret, app_clock))
    expect(page).to_have_url(HOME)


def test_declined_signature_shows_a_retry(page, base_url, wallet):
    wallet.decline = True
    wallet_sign_in(page, base_url)
    expect(page.get_by_role("alert")).to_have_text("You declined the request in your wallet.")
    retry = page.get_by_role("button", name="Try again")
    expect(retry).to_be_enabled()
    wallet.decline = False
    retry.click()
    expect(page).to_have_url(SCAN)


def test_wrong_network_is_named_with_a_retry(page, base_url, wallet):
    wallet.chain_id = 1
    wallet_sign_in(page, base_url)
    expect(page.get_by_role("alert")).to_contain_text("network 1")
    expect(page.get_by_role("button", name="Try again")).to_be_visible()
    assert wallet.signed == []  # nothing was offered for signing


def test_no_wallet_leads_to_install_help(page, base_url):
    wallet_sign_in(page, base_url)
    expect(page).to_have_url(re.compile(r"/login/connect/?$"))
    expect(page.get_by_role("link", name="MetaMask")).to_be_visible()
    page.get_by_role("button", name="Check again").click()
    expect(page.get_by_role("alert")).to_have_text("Still no wallet found in this browser.")


def test_switching_accounts_while_signing_shows_a_retry(page, base_url, wallet):
    wallet.switch_while_signing = True
    wallet_sign_in(page, base_url)
    expect(page.get_by_role("alert")).to_contain_text("You switched accounts in your wallet while signing.")
    wallet.switch_while_signing = False
    page.get_by_role("button", name="Try again").click()
    expect(page).to_have_url(SCAN)
