"""A test wallet for the browser: EIP-1193 provider announced via EIP-6963, answered from Python."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from playwright.sync_api import expect

from tests.e2e import journeys
from tests.e2e.journeys import HOME, REACT_READY_JS, STEP_SECONDS, VERIFY, code_now, confirm_with_code, enter_code

ICON = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='8' height='8'/%3E"
PROVIDER_JS = """
(() => {
  const listeners = {};
  const provider = {
    request: async ({method, params}) => {
      let answer = await window.fdTestWallet(method, params || []);
      while (answer && answer.hold) {  // the person has not answered yet: wait for release_held()
        await new Promise((resolve) => (window.__fdHeld = window.__fdHeld || []).push(resolve));
        answer = await window.fdTestWallet(method, params || []);
      }
      if (answer && answer.emit) (listeners[answer.emit[0]] || []).forEach((fn) => fn(answer.emit[1]));
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
        self.switch_while_signing = False
        self.refuse_switch = False
        """Answer `wallet_switchEthereumChain` / `wallet_addEthereumChain` with 4001 (the person said no)."""
        self.known_chains: set[int] = {1, chain_id}
        """Chains the wallet can switch to; any other answers 4902 until `wallet_addEthereumChain` adds it."""
        self.signed: list[str] = []
        self.sign_requests = 0
        """How many `personal_sign` requests reached the wallet (declined ones too)."""
        self.calls: list[tuple[str, list]] = []
        """The network requests (`wallet_switchEthereumChain`, `wallet_addEthereumChain`) with their params."""
        self.requests: list[str] = []
        """Every method the page asked, in order (a held request once, when answered)."""
        self.hold_connect = False
        """Leave `eth_requestAccounts` unanswered (the wallet's window is open) until `release_held`."""

    @property
    def address(self) -> str:
        return self.account.address

    def answer(self, method: str, params: list) -> dict:
        if method == "eth_requestAccounts" and self.hold_connect:
            return {"hold": True}
        self.requests.append(method)
        if method in ("eth_requestAccounts", "eth_accounts"):
            return {"result": [self.address]}
        if method == "eth_chainId":
            return {"result": hex(self.chain_id)}
        if method == "wallet_switchEthereumChain":
            self.calls.append((method, params))
            return self._switch(int(params[0]["chainId"], 16))
        if method == "wallet_addEthereumChain":
            self.calls.append((method, params))
            return self._add(params[0])
        if method == "personal_sign":
            self.sign_requests += 1
            if self.decline:
                return {"error": {"code": 4001, "message": "User rejected the request."}}
            message_hex, address = params
            assert address.lower() == self.address.lower()
            signed = self.account.sign_message(encode_defunct(hexstr=message_hex))
            self.signed.append(bytes.fromhex(message_hex[2:]).decode())
            answer = {"result": signed.signature.to_0x_hex()}
            if self.switch_while_signing:  # the person picks another account while the request is open
                answer["emit"] = ["accountsChanged", [Account.create().address]]
            return answer
        return {"error": {"code": 4200, "message": f"{method} is not supported"}}

    def _switch(self, chain_id: int) -> dict:
        """EIP-3326: 4902 for a chain the wallet does not know; on success `chainChanged` with the new id."""
        if self.refuse_switch:
            return {"error": {"code": 4001, "message": "User rejected the request."}}
        if chain_id not in self.known_chains:
            return {"error": {"code": 4902, "message": f"Unrecognized chain ID {hex(chain_id)}."}}
        self.chain_id = chain_id
        return {"result": None, "emit": ["chainChanged", hex(chain_id)]}

    def _add(self, chain: dict) -> dict:
        """EIP-3085: refuse a request without what a wallet needs; otherwise learn the chain (no switch)."""
        if self.refuse_switch:
            return {"error": {"code": 4001, "message": "User rejected the request."}}
        currency = chain.get("nativeCurrency") or {}
        if not (chain.get("chainName") and chain.get("rpcUrls") and currency.get("symbol") and currency.get("decimals")):
            return {"error": {"code": -32602, "message": "Invalid chain parameters."}}
        self.known_chains.add(int(chain["chainId"], 16))
        return {"result": None}

    def release_held(self, page) -> None:
        """Answer the requests left waiting by `hold_connect` (set it to False first)."""
        page.evaluate("() => { const held = window.__fdHeld || []; window.__fdHeld = []; held.forEach((go) => go()); }")

    def install(self, page) -> None:
        page.expose_function("fdTestWallet", self.answer)
        page.add_init_script(PROVIDER_JS)


@pytest.fixture
def wallet(page) -> TestWallet:
    test_wallet = TestWallet()
    test_wallet.install(page)
    return test_wallet


def wallet_button(page, base_url: str):
    """/login's wallet button, once React handles it (a click on the prerendered page would be lost)."""
    page.goto(f"{base_url}/login")
    page.wait_for_function(REACT_READY_JS, arg="#wallet-start")
    return page.get_by_role("button", name="Sign in with a wallet")


def wallet_sign_in(page, base_url: str) -> None:
    wallet_button(page, base_url).click()


def link_wallet(page, base_url: str, account: journeys.Account, clock) -> None:
    """From the security page, after a fresh code: link the injected test wallet."""
    page.goto(f"{base_url}/user/security")
    confirm_with_code(page, account, clock)
    page.get_by_role("button", name="Link a wallet").click()
    expect(page.get_by_role("status")).to_contain_text("Wallet linked")


def wallet_sign_in_with_code(page, base_url: str, secret: str, clock) -> None:
    """The wallet signs in, then a code of a new time step: home."""
    wallet_sign_in(page, base_url)
    expect(page).to_have_url(VERIFY)
    clock.advance(STEP_SECONDS)
    enter_code(page, code_now(secret, clock))
    expect(page).to_have_url(HOME)
