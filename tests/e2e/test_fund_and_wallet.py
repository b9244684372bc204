"""End to end: the fund step after enrolment and the wallet page, in Chromium with the injected test wallet,
on the two demo chains the app runs (the funds are read back on chain with web3)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from fuzzydice.chain.networks import DEMO_NETWORKS, demo_tokens
from fuzzydice.chain.wallet_params import add_chain_params
from fuzzydice.services import get_services
from fuzzydice.ui.wallet_scripts import wallet_error_message
from tests.e2e.journeys import (
    HOME,
    REACT_READY_JS,
    SCAN,
    Account as Person,
    enrol,
    enrol_to_fund,
    register,
)
from tests.e2e.wallets import TestWallet, wallet_sign_in
from tests.funding_fixtures import TOKEN_DECIMALS, balances, one_grant

L1, L2 = DEMO_NETWORKS
PHONE = {"width": 390, "height": 844}
PAGE_WIDTH_JS = "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
LAUNCH = re.compile(r"/launch/?$")
SENT = "Sent 1 ETH, 1,000 DICE, 1,000 fUSD and 1,000 fWETH to {short} on {network}."


def short(address: str) -> str:
    return f"{address[:6]}…{address[-4:]}"


def faucet_button(page, network):
    return page.get_by_role("button", name=f"Get test ETH and tokens on {network.name}")


def faucet_group(page, network, address):
    return page.get_by_role("group", name=f"{network.name} · {short(address)}")


def wallet_user_at_fund_step(page, base_url, app_clock) -> Person:
    """A new account made by the injected wallet, enrolled: the backup codes' Continue lands on the fund step."""
    wallet_sign_in(page, base_url)
    expect(page).to_have_url(SCAN)
    return enrol_to_fund(page, Person(email=""), app_clock)


def test_a_new_wallet_user_funds_both_chains_once_a_day_then_continues(page, base_url, app_clock, wallet,
                                                                        demo_chain_settings):
    wallet_user_at_fund_step(page, base_url, app_clock)
    expect(page.get_by_role("heading", level=1)).to_have_text("Fund your wallet")
    page.wait_for_function(REACT_READY_JS, arg="#fund button")

    # A double click sends once: the second click finds the first still running.
    l1 = faucet_group(page, L1, wallet.address)
    faucet_button(page, L1).dblclick()
    expect(l1.get_by_role("status")).to_have_text(SENT.format(short=short(wallet.address), network=L1.name),
                                                   timeout=30_000)
    expect(l1).to_contain_text("Funded — again after 00:00 UTC tomorrow")
    expect(l1.get_by_role("alert")).to_have_count(0)
    faucet_button(page, L2).click()
    l2 = faucet_group(page, L2, wallet.address)
    expect(l2.get_by_role("status")).to_have_text(SENT.format(short=short(wallet.address), network=L2.name),
                                                   timeout=30_000)

    # The wallet really holds one grant on each chain (read on chain, not through the app).
    for network in (L1, L2):
        assert balances(demo_chain_settings[network.chain_id], wallet.address) == one_grant(TOKEN_DECIMALS)
    # The balances card read again after the grants: both chains show the funds.
    card = page.locator("#balances")
    for network in (L1, L2):
        section = card.get_by_role("region", name=network.name)
        expect(section).to_contain_text("1 ETH", timeout=20_000)
        expect(section).to_contain_text("1,000 DICE")
        expect(section).to_contain_text("1,000 fUSD")

    # A second click the same day: refused in words, saying when the faucet serves this wallet again.
    faucet_button(page, L1).click()
    expect(l1.get_by_role("alert")).to_contain_text(
        re.compile(r"already received test funds on this network today\. It is available again .*00:00 UTC")
    )
    expect(l1.get_by_role("status")).to_have_count(0)
    assert balances(demo_chain_settings[L1.chain_id], wallet.address) == one_grant(TOKEN_DECIMALS)
    # After a reload the page still knows.
    page.reload()
    expect(faucet_group(page, L1, wallet.address)).to_contain_text("Used today — again after 00:00 UTC tomorrow")

    page.get_by_role("link", name="Continue").click()
    expect(page).to_have_url(LAUNCH)


def test_skip_for_now_goes_home_and_an_account_without_a_wallet_learns_how_to_get_one(page, base_url, app_clock):
    enrol_to_fund(page, register(page, base_url), app_clock)
    card = page.locator("#fund")
    expect(card.get_by_role("heading", name="Get a wallet")).to_be_visible()
    expect(card.get_by_role("link", name="Find a wallet (ethereum.org)")).to_have_attribute(
        "href", "https://ethereum.org/en/wallets/find-wallet/"
    )
    expect(card.get_by_role("link", name="Link a wallet")).to_have_attribute("href", "/user/security")
    expect(page.get_by_role("button", name=re.compile("Get test ETH"))).to_have_count(0)
    page.get_by_role("link", name="Skip for now").click()
    expect(page).to_have_url(HOME)


def test_the_wallet_page_shows_the_address_qr_tokens_and_adds_a_network(page, context, base_url, app_clock, wallet):
    wallet_sign_in(page, base_url)
    enrol(page, Person(email=""), app_clock)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Wallet", exact=True).click()
    expect(page).to_have_url(re.compile(r"/user/wallet/?$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Wallet")

    wallets = page.locator("#wallets")
    expect(wallets.get_by_text(wallet.address, exact=True)).to_be_visible()
    qr = wallets.get_by_role("img", name=f"QR code of the address {short(wallet.address)}")
    expect(qr).to_have_attribute("src", re.compile(r"^data:image/svg\+xml"))
    page.wait_for_function("() => [...document.querySelectorAll('#wallets img')].every((i) => i.complete)")
    assert qr.evaluate("(image) => image.naturalWidth") > 0
    page.wait_for_function(REACT_READY_JS, arg="#wallets button")
    wallets.get_by_role("button", name="Copy address").click()
    expect(page.get_by_text("Address copied")).to_be_visible()
    assert page.evaluate("() => navigator.clipboard.readText()") == wallet.address

    # The tokens of each network, with their addresses; the fund card and the balances are here too.
    for network in (L1, L2):
        items = page.get_by_role("list", name=f"Tokens on {network.name}").get_by_role("listitem")
        expect(items).to_have_count(len(network.tokens))
        for item, token in zip(items.all(), demo_tokens()):
            expect(item).to_contain_text(f"{token.symbol} · {token.name}")
            expect(item).to_contain_text(token.address)
    expect(faucet_button(page, L1)).to_be_visible()
    expect(page.locator("#balances").get_by_role("region", name=L2.name)).to_be_visible()

    # "Add this network to your wallet": wallet_addEthereumChain with the network's parameters, then the switch.
    page.get_by_role("button", name=f"Add {L2.name} to your wallet").click()
    expect(page.locator("#networks").get_by_role("status")).to_have_text(
        f"{L2.name} is in your wallet, and your wallet is on it now."
    )
    in_force = get_services().settings.network(L2.chain_id)  # with the RPC URL of the session's chain
    assert wallet.calls[0] == ("wallet_addEthereumChain", [add_chain_params(in_force)])
    assert wallet.calls[1][0] == "wallet_switchEthereumChain" and wallet.chain_id == L2.chain_id

    # A cancelled prompt is said calmly: no error.
    wallet.refuse_switch = True
    page.get_by_role("button", name=f"Add {L1.name} to your wallet").click()
    expect(page.locator("#networks").get_by_role("status")).to_have_text(wallet_error_message("4001"))
    expect(page.locator("#networks").get_by_role("alert")).to_have_count(0)


def test_at_390_px_the_wallet_and_fund_pages_do_not_overflow(browser, base_url, app_clock):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        wallet = TestWallet()
        wallet.install(page)
        wallet_user_at_fund_step(page, base_url, app_clock)
        page.wait_for_function(REACT_READY_JS, arg="#fund button")
        faucet_button(page, L2).click()
        expect(faucet_group(page, L2, wallet.address).get_by_role("status")).to_be_visible(timeout=30_000)
        expect(page.locator("#balances").get_by_role("region", name=L2.name)).to_contain_text("1,000 DICE")
        assert page.evaluate(PAGE_WIDTH_JS) <= PHONE["width"], "/user/fund"
        for button in (faucet_button(page, L1), page.get_by_role("link", name="Continue")):
            box = button.bounding_box()
            assert box and 0 <= box["x"] and box["x"] + box["width"] <= PHONE["width"]

        page.goto(f"{base_url}/user/wallet")
        expect(page.locator("#wallets").get_by_text(wallet.address, exact=True)).to_be_visible()
        expect(page.get_by_role("list", name=f"Tokens on {L2.name}").get_by_role("listitem")).to_have_count(3)
        expect(page.locator("#balances").get_by_role("region", name=L2.name)).to_contain_text("1,000 DICE")
        assert page.evaluate(PAGE_WIDTH_JS) <= PHONE["width"], "/user/wallet"
        # The full address wraps inside the screen.
        box = page.locator("#wallets").get_by_text(wallet.address, exact=True).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    finally:
        context.close()
