"""End to end: wallet sign-in with a test wallet injected into the page (EIP-1193, announced via EIP-6963).

The wallet's answers come from Python: `personal_sign` signs with an eth_account key
through `page.expose_function`, so the real page, server and verification run. The
wallet also answers network requests (switch, add) and counts what it is asked.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from fuzzydice.chain.wallet_params import add_chain_params
from fuzzydice.settings import get_settings
from fuzzydice.ui.wallet_scripts import add_network_script, wallet_error_message
from tests.e2e.journeys import HOME, SCAN, VERIFY, code_now, enrol, enter_code, sign_out, Account as Person
from tests.e2e.wallets import wallet_button, wallet_sign_in

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


LOCAL_L1_SWITCH = ("wallet_switchEthereumChain", [{"chainId": "0x7a69"}])


def local_l1_add() -> tuple[str, list]:
    """The request adding the local L1, with the RPC URL the app runs with (the suite's anvil, on loopback)."""
    rpc_url = get_settings().network(31337).rpc_url
    assert rpc_url.startswith("http://127.0.0.1:")
    return (
        "wallet_addEthereumChain",
        [{
            "chainId": "0x7a69",
            "chainName": "Local Ethereum (anvil)",
            "rpcUrls": [rpc_url],
            "nativeCurrency": {"name": "Ether", "symbol": "ETH", "decimals": 18},
        }],
    )


def test_a_wallet_on_another_network_is_switched_before_signing(page, base_url, wallet):
    wallet.chain_id = 1
    wallet_sign_in(page, base_url)
    expect(page).to_have_url(SCAN)
    assert wallet.calls == [LOCAL_L1_SWITCH]
    assert "\nChain ID: 31337\n" in wallet.signed[-1] and wallet.sign_requests == 1


def test_a_wallet_that_does_not_know_the_network_adds_it_then_switches(page, base_url, wallet):
    wallet.chain_id, wallet.known_chains = 1, {1}
    wallet_sign_in(page, base_url)
    expect(page).to_have_url(SCAN)
    assert wallet.calls == [LOCAL_L1_SWITCH, local_l1_add(), LOCAL_L1_SWITCH]
    assert "\nChain ID: 31337\n" in wallet.signed[-1]


def test_a_wallet_on_an_accepted_network_is_not_asked_to_switch(page, base_url, wallet):
    wallet.chain_id = 31338  # the local L2
    wallet_sign_in(page, base_url)
    expect(page).to_have_url(SCAN)
    assert wallet.calls == []
    assert "\nChain ID: 31338\n" in wallet.signed[-1]


def test_a_refused_switch_names_the_networks_in_words_with_a_retry(page, base_url, wallet):
    wallet.chain_id, wallet.refuse_switch = 1, True
    wallet_sign_in(page, base_url)
    alert = page.get_by_role("alert")
    expect(alert).to_have_text(
        "Your wallet is on Ethereum, which this site does not use. "
        "Switch to Local Ethereum (anvil) or Local L2 (anvil) and try again."
    )
    assert not re.search(r"\d{2,}|\b1\b", alert.inner_text())  # no chain number, in any form
    assert wallet.calls == [LOCAL_L1_SWITCH] and wallet.sign_requests == 0  # nothing was offered for signing
    wallet.refuse_switch = False
    page.get_by_role("button", name="Try again").click()
    expect(page).to_have_url(SCAN)
    assert wallet.sign_requests == 1


def test_a_double_click_on_the_wallet_button_signs_once(page, base_url, wallet):
    wallet_button(page, base_url).dblclick()
    expect(page).to_have_url(SCAN)
    assert wallet.sign_requests == 1
    assert wallet.requests.count("eth_requestAccounts") == 1


def test_the_wallet_button_is_disabled_while_the_wallet_is_open(page, base_url, wallet):
    wallet.hold_connect = True
    button = wallet_button(page, base_url)
    button.click()
    expect(page.locator("#wallet-status")).to_have_text("Confirm the connection in your wallet…")
    expect(button).to_be_disabled()
    wallet.hold_connect = False
    wallet.release_held(page)
    expect(page).to_have_url(SCAN)
    assert wallet.sign_requests == 1


def test_the_wallet_comes_first_on_the_login_page_at_390_px(page, base_url):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base_url}/login")
    wallet_button = page.get_by_role("button", name="Sign in with a wallet")
    get_one = page.get_by_role("link", name="Find one on ethereum.org")
    email = page.get_by_label("Email")
    for element in (wallet_button, get_one, email):
        expect(element).to_be_in_viewport()
    assert wallet_button.bounding_box()["y"] < get_one.bounding_box()["y"] < email.bounding_box()["y"]
    expect(get_one).to_have_attribute("href", "https://ethereum.org/en/wallets/find-wallet/")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390  # nothing sticks out sideways


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


def test_the_add_network_script_adds_the_local_l2_and_switches_to_it(page, base_url, wallet):
    """The script the wallet page's "Add this network to your wallet" button runs, in a real page."""
    wallet_button(page, base_url)
    l2 = get_settings().network(31338)
    assert page.evaluate(add_network_script(l2)) == {"chainId": "0x7a6a"}
    assert [method for method, _ in wallet.calls] == ["wallet_addEthereumChain", "wallet_switchEthereumChain"]
    assert wallet.calls[0][1] == [add_chain_params(l2)] and wallet.chain_id == 31338

    wallet.refuse_switch = True
    refused = page.evaluate(add_network_script(get_settings().network(31337)))
    assert refused["error"] == "4001"
    assert wallet_error_message(refused["error"]) == "You declined the request in your wallet."
