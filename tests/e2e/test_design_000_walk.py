"""Design 000 walked end to end in Chromium, as a new wallet user meets it on the two demo chains:
wallet sign-in → enrol → fund both chains → home shows the funds on both → wallet page QR → launch a
15-minute session → "Session running" → end it."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from fuzzydice.chain.networks import DEMO_NETWORKS
from tests.e2e.journeys import HOME, SCAN, Account as Person, enrol_to_fund
from tests.e2e.wallets import wallet_sign_in
from tests.funding_fixtures import TOKEN_DECIMALS, balances, one_grant

L1, L2 = DEMO_NETWORKS
LAUNCH = re.compile(r"/launch/?$")
WALLET = re.compile(r"/user/wallet/?$")


def nav(page, name: str):
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True)


def test_sign_in_fund_see_balances_on_both_chains_then_launch_and_end_a_session(
    page, base_url, app_clock, wallet, demo_chain_settings
):
    wallet_sign_in(page, base_url)
    expect(page).to_have_url(SCAN)
    enrol_to_fund(page, Person(email=""), app_clock)

    # Step 4: fund the wallet on both chains from the faucet.
    for network in (L1, L2):
        page.get_by_role("button", name=f"Get test ETH and tokens on {network.name}").click()
        group = page.get_by_role("group", name=re.compile(re.escape(network.name)))
        expect(group.get_by_role("status")).to_contain_text("Sent 1 ETH", timeout=30_000)
    for network in (L1, L2):  # the chain really holds them
        assert balances(demo_chain_settings[network.chain_id], wallet.address) == one_grant(TOKEN_DECIMALS)

    # Home: the funded balances, per network by name, read from the chains.
    page.goto(f"{base_url}/user/home")
    expect(page).to_have_url(HOME)
    card = page.locator("#balances")
    for network in (L1, L2):
        section = card.get_by_role("region", name=network.name)
        expect(section).to_contain_text("1 ETH", timeout=20_000)
        for symbol in TOKEN_DECIMALS:
            expect(section).to_contain_text(f"1,000 {symbol}")
    expect(card).not_to_contain_text(str(L1.chain_id))  # networks by name, never a bare chain id
    # A wallet account's name is its address: the account button shows a wallet, not the "0" of "0x…".
    expect(page.locator("#account-avatar-wallet")).to_be_visible()
    # Recent activity names who sent the funds.
    expect(page.get_by_role("list", name="Recent activity")).to_contain_text("from the demo faucet", timeout=20_000)

    # The wallet page: the address with its QR code.
    nav(page, "Wallet").click()
    expect(page).to_have_url(WALLET)
    wallets = page.locator("#wallets")
    expect(wallets.get_by_text(wallet.address, exact=True)).to_be_visible()
    expect(wallets.get_by_role("img", name=re.compile("QR code of the address"))).to_have_attribute(
        "src", re.compile(r"^data:image/svg\+xml")
    )

    # Step 5: launch a 15-minute session, see it run, end it.
    nav(page, "Launch").click()
    expect(page).to_have_url(LAUNCH)
    expect(page.get_by_role("radiogroup", name="Network").get_by_role("radio", checked=True)).to_have_count(1)
    page.get_by_role("radiogroup", name="Length").get_by_role("radio", name="15 minutes").click()
    page.get_by_label("Spending limit").fill("0.25")
    page.get_by_role("button", name="Start session").click()
    expect(page.get_by_role("heading", name="Session running")).to_be_visible()
    expect(page.get_by_role("timer")).to_have_text(re.compile(r"^1[45]:\d\d$"))
    page.get_by_role("button", name="End session").click()
    expect(page.get_by_role("heading", name="Session running")).to_have_count(0)
    expect(page.get_by_role("list", name="Past sessions").get_by_role("listitem").first).to_contain_text(
        "Ended by you"
    )
