"""Forged events on the fund and wallet pages: the faucet serves only the rows the page built for the signed-in
account (another account's wallet, or a chain the faucet does not serve, sends nothing), malformed payloads are
refused with a message and never a traceback, and the add-network button only offers networks in force."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from eth_account import Account
from playwright.sync_api import expect

from fuzzydice.chain.networks import DEMO_L1_CHAIN_ID, DEMO_L2_CHAIN_ID
from tests.e2e.forge import HOOK_SOCKET, ROOT_STATE, forge
from tests.e2e.journeys import PASSWORD, REACT_READY_JS, SCAN, Account as Person, enrol, enrol_to_fund, unique_email
from tests.e2e.wallets import wallet_sign_in
from tests.funding_fixtures import TOKEN_DECIMALS, balances, one_grant
from tests.security.tab_state import wait_for_server
from tests.security.test_malformed_events import (  # noqa: F401  (backend_log is a fixture)
    REFUSED,
    assert_no_exception_logged,
    backend_log,
    refusal_logged,
    toaster_ready,
)

FUND_STATE = f"{ROOT_STATE}.fuzzydice___ui___funding____fund_state"
WALLET_PAGE_STATE = f"{ROOT_STATE}.fuzzydice___ui___pages___wallet____wallet_state"
MALFORMED = {
    "key is a number": {"key": DEMO_L1_CHAIN_ID},
    "key is a list": {"key": ["31337", "0x0"]},
    "key is missing": {},
    "an extra argument": {"key": "31337:0x0", "address": "0x0"},
}


def grants_of(address: str) -> list[tuple]:
    from fuzzydice.models import FaucetGrant
    from fuzzydice.services import get_services

    table = FaucetGrant.__table__
    with get_services().db() as session:
        return list(session.execute(sa.select(table.c.chain_id).where(table.c.address == address)).all())


def someone_elses_wallet() -> str:
    """Another account with a linked wallet nobody funded (made through the cores)."""
    from fuzzydice.auth import flows, identity_rows
    from fuzzydice.services import get_services

    services = get_services()
    registered = flows.register(services, name="Vic Tim", email=unique_email(), password=PASSWORD)
    assert registered.ok, registered
    address = Account.create().address
    with services.db() as session:
        identity_rows.add_wallet(session, user_id=registered.value.user_id, address=address, now=services.clock.now())
        session.commit()
    return address


def test_forged_faucet_requests_send_only_to_the_accounts_own_rows(page, base_url, app_clock, wallet, backend_log,  # noqa: F811
                                                                   demo_chain_settings):
    page.add_init_script(HOOK_SOCKET)
    wallet_sign_in(page, base_url)
    expect(page).to_have_url(SCAN)
    enrol_to_fund(page, Person(email=""), app_clock)
    page.wait_for_function(REACT_READY_JS, arg="#fund button")
    toaster_ready(page)

    victim = someone_elses_wallet()
    forge(page, f"{FUND_STATE}.request", {"key": f"{DEMO_L1_CHAIN_ID}:{victim}"})  # not a row of this page
    forge(page, f"{FUND_STATE}.request", {"key": f"1:{wallet.address}"})  # not a chain the faucet serves
    for count, payload in enumerate(MALFORMED.values(), start=1):
        forge(page, f"{FUND_STATE}.request", payload, raw=True)
        wait_for_server(lambda: sum(refusal_logged([r], "FundState.request") for r in backend_log) >= count)
    expect(page.get_by_text(REFUSED)).to_be_visible()

    # The page's own row still works, and is the only grant made.
    page.get_by_role("button", name="Get test ETH and tokens on Local L2 (anvil)").click()
    expect(page.get_by_role("group", name=f"Local L2 (anvil) · {wallet.address[:6]}…{wallet.address[-4:]}")
           .get_by_role("status")).to_contain_text("Sent 1 ETH", timeout=30_000)
    assert grants_of(victim) == []
    assert grants_of(wallet.address) == [(DEMO_L2_CHAIN_ID,)]
    assert balances(demo_chain_settings[DEMO_L1_CHAIN_ID], victim) == {s: 0 for s in one_grant(TOKEN_DECIMALS)}
    assert balances(demo_chain_settings[DEMO_L1_CHAIN_ID], wallet.address)["ETH"] == 0
    assert_no_exception_logged(backend_log)


@pytest.mark.parametrize("chain_id", [1, 0, -5, 2**62])
def test_the_add_network_button_offers_only_networks_in_force(page, base_url, app_clock, wallet, backend_log, chain_id):  # noqa: F811
    page.add_init_script(HOOK_SOCKET)
    wallet_sign_in(page, base_url)
    enrol(page, Person(email=""), app_clock)
    page.goto(f"{base_url}/user/wallet")
    page.wait_for_function(REACT_READY_JS, arg="#networks button")
    forge(page, f"{WALLET_PAGE_STATE}.add_network", {"chain_id": chain_id})
    expect(page.locator("#networks").get_by_role("alert")).to_have_text(REFUSED)
    forge(page, f"{WALLET_PAGE_STATE}.add_network", {"chain_id": str(DEMO_L2_CHAIN_ID)}, raw=True)  # a text: refused
    wait_for_server(lambda: refusal_logged(backend_log, "WalletState.add_network"))
    assert wallet.calls == []  # the wallet was never asked
    # A forged answer with nothing asked changes nothing.
    forge(page, f"{WALLET_PAGE_STATE}.network_added", {"result": {"chainId": "0x1"}})
    page.get_by_role("button", name="Add Local L2 (anvil) to your wallet").click()
    expect(page.locator("#networks").get_by_role("status")).to_have_text(
        "Local L2 (anvil) is in your wallet, and your wallet is on it now."
    )
    assert [method for method, _ in wallet.calls] == ["wallet_addEthereumChain", "wallet_switchEthereumChain"]
    assert_no_exception_logged(backend_log)
