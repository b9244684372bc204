"""`/user/home` as a dashboard, on the session's two demo chains: balances per chain, authorizations
(second factors, sessions, token allowances), recent activity, play sessions; a stopped chain; a slow one.

The demo chains are shared by the whole session: every amount asserted here was sent in the test
to the test wallet, a fresh address (the deployer is impersonated, see tests/chain/chain_actions.py).
"""

from __future__ import annotations

import re
from datetime import timedelta

from eth_account import Account
from playwright.sync_api import expect

from fuzzydice.chain.networks import DEMO_L1_CHAIN_ID, DEMO_L2_CHAIN_ID, UNLIMITED_ALLOWANCE, demo_token_address
from fuzzydice.services import get_services
from fuzzydice.ui.dashboard_rows import short_address
from tests.chain.chain_actions import approve, rpc, send_eth, send_token
from tests.e2e.chain_settings import SlowRpcProxy, app_chains, dead_url
from tests.e2e.journeys import register_and_enrol
from tests.e2e.wallets import link_wallet
from tests.security.tab_state import wait_for_server

L1_NAME, L2_NAME = "Local Ethereum (anvil)", "Local L2 (anvil)"
DICE, FUSD, FWETH = (demo_token_address(i) for i in range(3))
ETHER = 10**18
PHONE = {"width": 390, "height": 844}
OVERFLOW_JS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
SLOW_S = 5.0
EXPLORER = "https://explorer.example"


def chain(page, name: str):
    """The balances card's section of one chain."""
    return page.locator("#balances").get_by_role("region", name=name, exact=True)


def open_home(page, base_url: str) -> None:
    page.goto(f"{base_url}/user/home")
    expect(page.get_by_role("heading", name="Home", level=1)).to_be_visible()


def test_home_shows_what_a_fresh_wallet_received_granted_and_sent_on_both_chains(
    page, base_url, app_clock, wallet, demo_chain_settings
):
    account = register_and_enrol(page, base_url, app_clock)
    link_wallet(page, base_url, account, app_clock)
    l1, l2 = demo_chain_settings[DEMO_L1_CHAIN_ID], demo_chain_settings[DEMO_L2_CHAIN_ID]
    me = wallet.address
    spender, limited_spender, receiver = (Account.create().address for _ in range(3))
    send_eth(l1, me, ETHER // 4)
    send_token(l1, DICE, me, 125 * ETHER // 10)
    send_token(l1, FUSD, me, 7 * 10**6)
    send_eth(l2, me, ETHER // 2)
    send_token(l2, DICE, me, 40 * ETHER)
    send_token(l2, FWETH, me, 3 * ETHER)
    # On L2 the wallet itself approves twice and sends (its gas is paid from its L2 ether).
    rpc(l2, "anvil_impersonateAccount", [me])
    approve(l2, DICE, me, spender, UNLIMITED_ALLOWANCE)
    approve(l2, FUSD, me, limited_spender, 5 * 10**6)
    send_token(l2, DICE, receiver, 2 * ETHER, sender=me)

    open_home(page, base_url)
    # Balances: each chain by name and layer, each currency in human units with its symbol.
    first, second = chain(page, L1_NAME), chain(page, L2_NAME)
    for text in ("L1", short_address(me), "0.25 ETH", "12.5 DICE", "7 fUSD", "0 fWETH"):
        expect(first).to_contain_text(text)
    for text in ("L2", "38 DICE", "3 fWETH", "0 fUSD"):
        expect(second).to_contain_text(text)
    expect(second).to_contain_text(re.compile(r"0\.49\d* ETH"))  # half an ether less the gas it paid
    expect(page.locator("#balances-updated")).to_have_text(re.compile(r"^Last updated \d{2}:\d{2}:\d{2} UTC$"))
    expect(page.locator("#balances-loading")).to_have_count(0)
    expect(page.locator("#balances").get_by_role("alert")).to_have_count(0)

    # "Hide empty" leaves out what the wallet holds none of.
    page.locator("#hide-zero-balances").click()
    expect(first).not_to_contain_text("fWETH")
    expect(first).to_contain_text("7 fUSD")

    # Authorizations: the second factors in words, the sessions, and the allowances ("Unlimited" for max).
    factors = page.locator("#factors")
    expect(factors).to_contain_text("Authenticator app")
    expect(factors).to_contain_text("Backup codes (10 left)")
    expect(page.locator("#session-count")).to_have_text(re.compile(r"^1 signed-in session \(this one included\)"))
    expect(page.locator("#manage-security")).to_have_attribute("href", "/user/security")
    allowances = page.get_by_role("list", name="Token allowances").get_by_role("listitem")
    expect(allowances).to_have_count(2)
    unlimited = allowances.filter(has_text=short_address(spender))
    expect(unlimited).to_contain_text("DICE")
    expect(unlimited.get_by_text("Unlimited", exact=True)).to_be_visible()
    limited = allowances.filter(has_text=short_address(limited_spender))
    expect(limited).to_contain_text("5 fUSD")
    expect(limited).to_contain_text(L2_NAME)
    expect(limited.get_by_text("Unlimited")).to_have_count(0)

    # Recent activity, newest first: the wallet's own transfer on L2 comes before what it received.
    items = page.get_by_role("list", name="Recent activity").get_by_role("listitem")
    sent = items.filter(has_text=f"to {short_address(receiver)}")
    expect(sent).to_contain_text("2 DICE")
    expect(sent).to_contain_text(L2_NAME)
    expect(sent).to_contain_text(re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC"))
    received = items.filter(has_text="12.5 DICE")
    expect(received).to_contain_text("Received")
    expect(received).to_contain_text("from the demo faucet")  # a known party by name, not its address
    expect(received).to_contain_text(L1_NAME)
    expect(items.filter(has_text="0.25 ETH")).to_contain_text("Received")
    expect(items.get_by_role("link")).to_have_count(0)  # the demo chains have no explorer
    texts = items.all_inner_texts()
    newest_first = [i for i, text in enumerate(texts) if "2 DICE" in text and "Sent" in text]
    older = [i for i, text in enumerate(texts) if "40 DICE" in text and "Received" in text]
    assert newest_first and older and newest_first[0] < older[0], texts  # the same chain, a later block

    # Play sessions: none yet, and the way to start one.
    expect(page.locator("#no-running-play").get_by_role("link")).to_have_attribute("href", "/launch")

    # At phone width nothing overflows (addresses are shortened).
    page.set_viewport_size(PHONE)
    expect(first).to_contain_text("12.5 DICE")
    assert page.evaluate(OVERFLOW_JS) <= 0

    # A stopped chain: its section says so, the other chain's balances still show.
    page.set_viewport_size({"width": 1280, "height": 900})
    with app_chains({DEMO_L1_CHAIN_ID: l1, DEMO_L2_CHAIN_ID: dead_url()}):
        page.locator("#balances-refresh").click()
        expect(second.get_by_role("alert")).to_have_text(f"{L2_NAME} did not answer")
        expect(second).not_to_contain_text("DICE")
        expect(first).to_contain_text("12.5 DICE")
        expect(first.get_by_role("alert")).to_have_count(0)
        page.locator("#activity-refresh").click()
        expect(page.locator("#activity").get_by_role("alert")).to_have_text(f"{L2_NAME} did not answer")
        expect(items.filter(has_text="12.5 DICE")).to_have_count(1)
        expect(items.filter(has_text=f"to {short_address(receiver)}")).to_have_count(0)
    page.locator("#balances-refresh").click()
    expect(second).to_contain_text("38 DICE")
    expect(second.get_by_role("alert")).to_have_count(0)

    # With an explorer configured, spenders and transactions link to it.
    explored = tuple(
        network.model_copy(update={"explorer_url": EXPLORER}) for network in get_services().settings.demo_networks
    )
    with app_chains({DEMO_L1_CHAIN_ID: l1, DEMO_L2_CHAIN_ID: l2}, demo_networks=explored):
        page.locator("#allowances-refresh").click()
        expect(unlimited.get_by_role("link")).to_have_attribute("href", f"{EXPLORER}/address/{spender}")
        page.locator("#activity-refresh").click()
        expect(sent.get_by_role("link", name="View on explorer")).to_have_attribute(
            "href", re.compile(rf"^{re.escape(EXPLORER)}/tx/0x[0-9a-f]{{64}}$")
        )


def test_a_user_without_a_wallet_is_shown_how_to_get_and_link_one(page, base_url, app_clock):
    register_and_enrol(page, base_url, app_clock)
    help_text = page.locator("#no-wallet")
    expect(help_text).to_contain_text("No wallet is linked")
    expect(help_text.get_by_role("link", name="Link a wallet now")).to_have_attribute("href", "/user/security")
    expect(page.locator("#balances").get_by_role("region")).to_have_count(0)
    expect(page.locator("#activity")).to_contain_text("Link a wallet")


CHECKED_WHILE_LOADING_JS = """() => {
  const toggle = document.querySelector('#hide-zero-balances');
  if (!toggle || toggle.getAttribute('aria-checked') !== 'true') return false;
  return {loading: !!document.querySelector('#balances-loading'),
          shown: document.querySelector('#balances').textContent.includes('ETH')};
}"""


def test_a_slow_chain_leaves_the_page_answering_its_other_events(
    page, base_url, app_clock, wallet, demo_chain_settings
):
    account = register_and_enrol(page, base_url, app_clock)
    link_wallet(page, base_url, account, app_clock)
    l1, l2 = demo_chain_settings[DEMO_L1_CHAIN_ID], demo_chain_settings[DEMO_L2_CHAIN_ID]
    send_token(l1, DICE, wallet.address, 9 * ETHER)
    with SlowRpcProxy(l1, delay=SLOW_S) as proxy, app_chains(
        {DEMO_L1_CHAIN_ID: proxy.url, DEMO_L2_CHAIN_ID: l2}, chain_rpc_timeout=timedelta(seconds=3 * SLOW_S)
    ):
        open_home(page, base_url)
        expect(page.locator("#balances-loading")).to_be_visible()
        # The balances read waits on the slow chain; the page still answers another event meanwhile.
        page.wait_for_function("() => !!document.querySelector('#hide-zero-balances')")
        page.locator("#hide-zero-balances").click()
        seen = page.wait_for_function(CHECKED_WHILE_LOADING_JS, timeout=SLOW_S * 1000 - 500).json_value()
        assert seen == {"loading": True, "shown": False}, seen
        # Then the balances arrive (both chains: the fast one was not shown before the slow one was read).
        expect(chain(page, L1_NAME)).to_contain_text("9 DICE", timeout=15_000)
        expect(chain(page, L2_NAME)).to_be_visible()
        expect(page.locator("#balances-loading")).to_have_count(0)
        assert proxy.count("eth_call") >= 1


def test_balances_asked_for_while_a_read_runs_are_read_again_when_it_ends(
    page, base_url, app_clock, wallet, demo_chain_settings
):
    """A refresh asked while a read runs (a page load here, a faucet grant on the wallet page) is not lost:
    the running read reads once more, so what changed on chain meanwhile shows without another click."""
    account = register_and_enrol(page, base_url, app_clock)
    link_wallet(page, base_url, account, app_clock)
    l1, l2 = demo_chain_settings[DEMO_L1_CHAIN_ID], demo_chain_settings[DEMO_L2_CHAIN_ID]
    send_token(l1, DICE, wallet.address, 9 * ETHER)
    with SlowRpcProxy(l1, delay=SLOW_S / 2, answer_late=True) as proxy, app_chains(
        {DEMO_L1_CHAIN_ID: proxy.url, DEMO_L2_CHAIN_ID: l2}, chain_rpc_timeout=timedelta(seconds=3 * SLOW_S)
    ):
        open_home(page, base_url)
        expect(page.locator("#balances-loading")).to_be_visible()
        # The read has asked the chain (its answer, late, says 9 DICE: the wallet has no approvals, so this is
        # the balances' multicall); then 1 more arrives and the page asks again while that read still runs.
        wait_for_server(lambda: "eth_call" in proxy.asked, timeout=SLOW_S)
        send_token(l1, DICE, wallet.address, ETHER)
        page.reload()
        expect(chain(page, L1_NAME)).to_contain_text("10 DICE", timeout=SLOW_S * 3000)
        assert proxy.asked.count("eth_call") == 2  # the running read read once more; the page load started none


def test_a_read_cut_short_by_leaving_the_page_does_not_hold_off_the_next_one(
    page, base_url, app_clock, wallet, demo_chain_settings
):
    """Reflex cancels the tasks a page load started when the tab leaves the page; the read's loading flag
    must not hold off the next visit's read."""
    account = register_and_enrol(page, base_url, app_clock)
    link_wallet(page, base_url, account, app_clock)
    l1, l2 = demo_chain_settings[DEMO_L1_CHAIN_ID], demo_chain_settings[DEMO_L2_CHAIN_ID]
    send_token(l1, DICE, wallet.address, 9 * ETHER)
    with SlowRpcProxy(l1, delay=2 * SLOW_S) as proxy:
        with app_chains(
            {DEMO_L1_CHAIN_ID: proxy.url, DEMO_L2_CHAIN_ID: l2}, chain_rpc_timeout=timedelta(seconds=3 * SLOW_S)
        ):
            open_home(page, base_url)
            expect(page.locator("#balances-loading")).to_be_visible()
            wait_for_server(lambda: "eth_call" in proxy.asked, timeout=SLOW_S)
            page.goto(f"{base_url}/user/security")  # while the read waits on the chain
            expect(page.get_by_role("heading", name="Security", level=1)).to_be_visible()
        # Back home on the usual chains while the first read's call still waits at the proxy: a new read
        # runs at once (the first one's late answer never shows).
        open_home(page, base_url)
        expect(chain(page, L1_NAME)).to_contain_text("9 DICE", timeout=SLOW_S * 1000 * 0.6)
        expect(page.locator("#balances-loading")).to_have_count(0)
        assert "eth_call" not in proxy.answered


def test_home_shows_the_running_play_session_and_the_past_ones(page, base_url, app_clock):
    from fuzzydice.auth.account_status import find_account
    from fuzzydice.play.sessions import end_play, start_play

    account = register_and_enrol(page, base_url, app_clock)
    services = get_services()
    with services.db() as session:
        user_id = find_account(session, account.email)
    first = start_play(services, user_id, DEMO_L2_CHAIN_ID, 30, "1.25")
    assert first.ok, first
    assert end_play(services, user_id, first.value.id).ok
    assert start_play(services, user_id, DEMO_L1_CHAIN_ID, 15, "0.5").ok

    open_home(page, base_url)
    running = page.locator("#running-play")
    expect(running).to_contain_text("Session running")
    expect(running).to_contain_text(L1_NAME)
    expect(running).to_contain_text(re.compile(r"1[45] minutes? left"))
    expect(running).to_contain_text("Spending limit 0.5 ETH")
    expect(running.get_by_role("link", name="Open Launch")).to_have_attribute("href", "/launch")
    past = page.get_by_role("list", name="Past play sessions").get_by_role("listitem")
    expect(past).to_have_count(1)
    expect(past).to_contain_text(L2_NAME)
    expect(past).to_contain_text("30 minutes")
    expect(past).to_contain_text("Spending limit 1.25 ETH")
    expect(past).to_contain_text("Ended by you at")
