"""End to end: wallet sign-in with a test wallet injected into the page (EIP-1193, announced via EIP-6963).

The wallet's answers come from Python: `personal_sign` signs with an eth_account key
through `page.expose_function`, so the real page, server and verification run.
"""

from __future__ import annotations

import re

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from playwright.sync_api import expect

from tests.e2e.journeys import HOME, SCAN, VERIFY, code_now, enrol, enter_code, sign_out, Account as Person

ICON = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='8' height='8'/%3E"
PROVIDER_JS = """
(() => {
  const listeners = {};
  const provider = {
    request: async ({method, params}) => {
      const answer = await window.fdTestWallet(method, params || []);
      if (answer && answer.error) {
        const err = new Error(answer.error.message); err.code = answer.error.code; throw err;
      }
      return answer.result;
    },
    on: (event, fn) => { (listeners[event] = listeners[event] || []).push(fn); },
    removeListener: (event, fn) => { listeners[event] = (listeners[event] || []).filter((f) => f !== fn); },
  };
  const info = Object.freeze({uuid: 'c0ffee00-0000-4000-8000-000000000001', name: 'Test Wallet',
                              icon: ICON, rdns: 'dev.fuzzydice.testwallet'});
  const announce = () => window.dispatchEvent(
    new CustomEvent('eip6963:announceProvider', {detail: Object.freeze({info, provider})}));
  window.addEventListener('eip6963:requestProvider', announce);
  announce();
})();
""".replace("ICON", repr(ICON))


class TestWallet:
    """An EIP-1193 wallet whose key lives in the test."""

    __test__ = False

    def __init__(self, chain_id: int = 31337) -> None:
        self.account = Account.create()
        self.chain_id = chain_id
        self.decline = False
        self.signed: list[str] = []

    @property
    def address(self) -> str:
        return self.account.address

    def answer(self, method: str, params: list) -> dict:
        if method in ("eth_requestAccounts", "eth_accounts"):
            return {"result": [self.address]}
        if method == "eth_chainId":
            return {"result": hex(self.chain_id)}
        if method == "personal_sign":
            if self.decline:
                return {"error": {"code": 4001, "message": "User rejected the request."}}
            message_hex, address = params
            assert address.lower() == self.address.lower()
            signed = self.account.sign_message(encode_defunct(hexstr=message_hex))
            self.signed.append(bytes.fromhex(message_hex[2:]).decode())
            return {"result": signed.signature.to_0x_hex()}
        return {"error": {"code": 4200, "message": f"{method} is not supported"}}

    def install(self, page) -> None:
        page.expose_function("fdTestWallet", self.answer)
        page.add_init_script(PROVIDER_JS)


@pytest.fixture
def wallet(page) -> TestWallet:
    test_wallet = TestWallet()
    test_wallet.install(page)
    return test_wallet


def wallet_sign_in(page, base_url: str) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_role("button", name="Sign in with a wallet").click()


def test_wallet_sign_in_enrols_then_signs_in_again(page, base_url, app_clock, wallet):
    wallet_sign_in(page, base_url)
    expect(page).to_have_url(SCAN)
    message = wallet.signed[-1]
    host = base_url.split("://", 1)[1]
    assert message.startswith(f"{host} wants you to sign in with your Ethereum account:\n{wallet.address}\n")
    assert "\nChain ID: 31337\n" in message and re.search(r"\nNonce: [A-Za-z0-9]{16,}\n", message)
    person = enrol(page, Person(email=""), app_clock)
    expect(page.get_by_text(f"{wallet.address[:6]}…{wallet.address[-4:]}")).to_be_visible()

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
