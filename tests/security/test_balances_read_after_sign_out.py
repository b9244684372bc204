"""A chain read still running when its user signs out is dropped: the tab never holds it afterwards.

The balances are read in a background event, outside the tab's state lock. If the user signs
out meanwhile, the guard wipes the tab at the next page load; the read's result arrives later
and must not be written into the wiped tab (where the next user of the tab would find it).
"""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect

from fuzzydice.chain.networks import DEMO_L1_CHAIN_ID, DEMO_L2_CHAIN_ID, demo_token_address
from tests.chain.chain_actions import send_token
from tests.e2e.chain_settings import SlowRpcProxy, app_chains
from tests.e2e.journeys import register_and_enrol, sign_out
from tests.e2e.wallets import link_wallet
from tests.security.tab_state import server_state, state_of, wait_for_server

BALANCES_STATE = "balances____balances_state"
SLOW_S = 5.0


def test_balances_read_when_the_user_signed_out_meanwhile_are_dropped(
    page, base_url, app_clock, app_harness, backend_call, wallet, demo_chain_settings
):
    account = register_and_enrol(page, base_url, app_clock)
    link_wallet(page, base_url, account, app_clock)
    l1, l2 = demo_chain_settings[DEMO_L1_CHAIN_ID], demo_chain_settings[DEMO_L2_CHAIN_ID]
    send_token(l1, demo_token_address(0), wallet.address, 10**18)
    address = wallet.address[2:].lower()

    # The check sees the balances while the user is signed in (so its silence below means something).
    page.goto(f"{base_url}/user/home")
    expect(page.locator("#balances").get_by_role("region", name="Local Ethereum (anvil)")).to_contain_text("1 DICE")
    assert address in repr(state_of(server_state(app_harness, backend_call, page), BALANCES_STATE)).lower()

    with SlowRpcProxy(l1, delay=SLOW_S) as proxy, app_chains(
        {DEMO_L1_CHAIN_ID: proxy.url, DEMO_L2_CHAIN_ID: l2}, chain_rpc_timeout=timedelta(seconds=3 * SLOW_S)
    ):
        page.locator("#balances-refresh").click()
        expect(page.locator("#balances-loading")).to_be_visible()
        sign_out(page)  # the next page load (/login) wipes the tab; the read is still waiting on the chain
        assert "eth_call" not in proxy.answered
        wait_for_server(lambda: "eth_call" in proxy.answered, timeout=3 * SLOW_S)
        page.wait_for_timeout(1_000)  # the read writes within milliseconds of its answer, if it writes at all

    held = state_of(server_state(app_harness, backend_call, page), BALANCES_STATE)
    assert held["chains"] == [] and held["loading"] is False and held["wallet_count"] == 0
    assert address not in repr(held).lower()
