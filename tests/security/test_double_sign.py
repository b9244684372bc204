"""One wallet connection per tab: a second start, forged past the disabled button, is ignored on the server.

A double click used to run two connections side by side: the wallet was asked to sign
twice, the second message replaced the first one's nonce, and the person ended on
"Your wallet reported an error". The button is now disabled while a connection runs,
and the server ignores a start (or a wallet choice) that arrives while one is under way.
"""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.forge import HOOK_SOCKET, LOGIN_STATE, SECURITY_STATE, WALLET_STATE, forge
from tests.e2e.journeys import SCAN, confirm_with_code, register_and_enrol
from tests.e2e.wallets import wallet_button
from tests.security.tab_state import ReceivedFrames

DISCOVERY = "eip6963:requestProvider"  # in the discovery script the server sends to start a connection
REFUSED = "That request could not be understood. Reload the page and try again."
CONNECTING = "Confirm the connection in your wallet…"
TEST_WALLET_ID = "c0ffee00-0000-4000-8000-000000000001"


def barrier(page) -> None:
    """Wait until the server has handled every event sent before: a malformed sign-in is refused in turn.

    The tab's events are handled one at a time in the order they arrive, so once this
    refusal shows, the forged events before it have been handled and their changes sent.
    """
    forge(page, f"{LOGIN_STATE}.submit", ["not", "a", "form"], raw=True)
    expect(page.get_by_text(REFUSED).first).to_be_visible()


def test_a_second_start_while_the_wallet_is_open_is_ignored(page, base_url, wallet):
    page.add_init_script(HOOK_SOCKET)
    frames = ReceivedFrames(page)
    wallet.hold_connect = True
    wallet_button(page, base_url).click()
    status = page.locator("#wallet-status")
    expect(status).to_have_text(CONNECTING)

    mark = frames.mark()
    forge(page, f"{WALLET_STATE}.start")
    forge(page, f"{WALLET_STATE}.choose", {"wallet_id": TEST_WALLET_ID})
    barrier(page)
    assert DISCOVERY not in frames.text_since(mark)  # no second discovery was sent
    assert "eth_requestAccounts" not in frames.text_since(mark)  # nor a second connection
    assert status.inner_text() == CONNECTING

    wallet.hold_connect = False
    wallet.release_held(page)
    expect(page).to_have_url(SCAN)
    assert wallet.requests.count("eth_requestAccounts") == 1
    assert wallet.sign_requests == 1


def test_a_second_link_request_on_the_security_page_is_ignored(page, base_url, app_clock, wallet):
    page.add_init_script(HOOK_SOCKET)
    frames = ReceivedFrames(page)
    account = register_and_enrol(page, base_url, app_clock)
    page.goto(f"{base_url}/user/security")
    confirm_with_code(page, account, app_clock)
    wallet.hold_connect = True
    link = page.get_by_role("button", name="Link a wallet")
    link.click()
    expect(link).to_be_disabled()

    page.wait_for_function("() => (window.__fdHeld || []).length >= 1")  # the wallet's window is open
    mark = frames.mark()
    forge(page, f"{SECURITY_STATE}.sign_with_wallet", {"purpose": "link"})
    barrier(page)
    assert DISCOVERY not in frames.text_since(mark)
    wallet.hold_connect = False
    wallet.release_held(page)
    expect(page.get_by_role("status")).to_contain_text("Wallet linked")
    assert wallet.requests.count("eth_requestAccounts") == 1
    assert wallet.sign_requests == 1
