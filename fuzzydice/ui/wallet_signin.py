"""Wallet sign-in state and panel, shared by `/login` and `/login/connect`.

Discovery, connect and signing run in the browser (scripts in `wallet_scripts`);
the server builds and keeps the message, verifies the signature and hands over
a first-factor session. Every step can fail with a clear message and a retry.

One connection at a time per tab: the buttons are disabled while one runs, and the
server ignores a second start (a double click) and any wallet answer that belongs to
a step already passed, so a person is asked to sign once.
"""

from __future__ import annotations

import asyncio

import reflex as rx

from fuzzydice.services import get_services
from fuzzydice.ui import routes, wallet_scripts
from fuzzydice.ui.event_payloads import text_field
from fuzzydice.ui.messages import explain
from fuzzydice.ui.page_spec import StateAccess
from fuzzydice.ui.session_state import SessionState
from fuzzydice.wallet import flows as wallet_flows

MAX_WALLETS = 10
MAX_CHAIN_ID_CHARS = 32  # parse no more text than a chain id can take (the core checks its range)
MAX_ADDRESS_CHARS = 64
MAX_SIGNATURE_CHARS = 20_000  # an EOA signs 132 characters; contract wallets (EIP-1271) send more


def _clean_wallet(raw: object) -> dict[str, str] | None:
    if not isinstance(raw, dict):
        return None
    wallet_id, name, icon = (str(raw.get(key, ""))[:200] for key in ("id", "name", "icon"))
    if not wallet_id:
        return None
    icon = icon if icon.startswith("data:image/") and len(icon) < 100_000 else ""
    return {"id": wallet_id, "name": name[:60] or "Wallet", "icon": icon}


_STATUS_TEXT = {
    "discovering": "Looking for wallets…",
    "connecting": "Confirm the connection in your wallet…",
    "signing": "Sign the message in your wallet…",
    "verifying": "Checking the signature…",
}


async def challenge_from_connect(
    result: object,
    *,
    origin: str,
    binding: str,
    purpose: str = "sign_in",
    user_id: int | None = None,
    ip: str | None = None,
) -> tuple[str, wallet_flows.Challenge | None, str]:
    """From the connect script's answer to a stored challenge: (address, challenge, "") or (address, None, what failed).

    `ip`: the client's address, for the per-IP limit on anonymous challenges (sign-in).
    """
    result = result if isinstance(result, dict) else {}
    if result.get("error"):
        return "", None, wallet_scripts.wallet_error_message(str(result["error"]), str(result.get("message", "")))
    try:
        chain_id = int(text_field(result, "chainId", MAX_CHAIN_ID_CHARS), 0)
    except ValueError:
        chain_id = 0  # refused by the core as "no network"
    address = text_field(result, "address", MAX_ADDRESS_CHARS)
    outcome = await asyncio.to_thread(
        wallet_flows.begin_sign_in,
        get_services(),
        address=address,
        chain_id=chain_id,
        origin=origin,
        binding=binding,
        purpose=purpose,
        user_id=user_id,
        ip=ip,
    )
    if not outcome.ok:
        return address, None, explain(outcome)
    return address, outcome.value, ""


class WalletSignInState(rx.State):
    """Where a wallet sign-in stands in this tab."""

    wallets: list[dict[str, str]] = []
    status: str = ""  # "", discovering, choose, connecting, signing, verifying
    error: str = ""
    _wallet_id: str = ""
    _nonce: str = ""
    _address: str = ""

    @rx.var
    def status_text(self) -> str:
        """What is happening now, in words."""
        return _STATUS_TEXT.get(self.status, "")

    @rx.event
    def on_load(self):
        """A fresh panel on every visit (this tab's state outlives a sign-in and sign-out)."""
        self.reset()

    @rx.event
    def start(self):
        """Look for wallets announced on the page (EIP-6963), or a legacy one; ignored while a connection runs."""
        if self.status:
            return
        self.status, self.error, self.wallets = "discovering", "", []
        return rx.call_script(wallet_scripts.DISCOVER, callback=WalletSignInState.wallets_found)

    @rx.event
    def wallets_found(self, found: list):
        """No wallet: explain how to get one. One: use it. Several: let the person choose."""
        if self.status != "discovering":
            return
        wallets = [w for w in (_clean_wallet(raw) for raw in (found or [])[:MAX_WALLETS]) if w]
        self.wallets = wallets
        if not wallets:
            self.status = ""
            if routes.normalize_path(self.router.url.path) == routes.CONNECT:
                self.error = "Still no wallet found in this browser."
                return
            return rx.redirect(routes.CONNECT)
        if len(wallets) == 1:
            return self._connect(wallets[0]["id"])
        self.status = "choose"

    @rx.event
    def choose(self, wallet_id: str):
        """Ask the chosen wallet for its account and network (once: a second click is ignored)."""
        if self.status != "choose" or wallet_id not in {w["id"] for w in self.wallets}:
            return
        return self._connect(wallet_id)

    def _connect(self, wallet_id: str):
        self._wallet_id, self.status, self.error = wallet_id, "connecting", ""
        networks = get_services().settings.active_networks
        return rx.call_script(wallet_scripts.connect_script(wallet_id, networks), callback=WalletSignInState.connected)

    def _fail(self, message: str) -> None:
        self.status, self.error, self._nonce = "", message, ""

    @rx.event
    async def connected(self, result: dict):
        """The wallet named its account and chain: build the message and ask for a signature.

        Only while connecting (or at rest, where it is checked like any answer): one arriving
        once signing has begun belongs to a second connection and is ignored.
        """
        if self.status not in ("", "connecting"):
            return
        address, challenge, problem = await challenge_from_connect(
            result,
            origin=self.router.headers.origin,
            binding=self.router.session.client_token,
            ip=self.router.session.client_ip or "unknown",
        )
        if challenge is None:
            return self._fail(problem)
        self._nonce, self._address, self.status = challenge.nonce, address, "signing"
        return rx.call_script(
            wallet_scripts.sign_script(self._wallet_id, challenge.message, self._address),
            callback=WalletSignInState.signed,
        )

    @rx.event
    async def signed(self, result: dict):
        """Verify the signature on the server, then hand over a first-factor session."""
        if self.status != "signing":  # a second answer, or one nobody asked for
            return
        result = result if isinstance(result, dict) else {}
        if result.get("error") or not self._nonce:
            self._fail(wallet_scripts.wallet_error_message(str(result.get("error", "")), str(result.get("message", ""))))
            return
        self.status = "verifying"
        yield
        outcome = await asyncio.to_thread(
            wallet_flows.complete_sign_in,
            get_services(),
            nonce=self._nonce,
            signature=text_field(result, "signature", MAX_SIGNATURE_CHARS),
            binding=self.router.session.client_token,
            ip=self.router.session.client_ip or "unknown",
            user_agent=self.router.headers.user_agent,
        )
        self._nonce = ""
        if not outcome.ok:
            self._fail(explain(outcome))
            return
        signed_in = outcome.value
        session = await self.get_state(SessionState)
        yield await session._after_first_factor(signed_in, remember=False)


def wallet_panel(button_label: str = "Sign in with a wallet") -> rx.Component:
    """The wallet button, the list of wallets to choose from, progress and errors with a retry.

    The button shows a spinner and is disabled while a connection runs (`start` ignores a
    second click anyway); a chosen wallet's button goes with the list as soon as it is clicked.
    """
    busy = WalletSignInState.status != ""
    return rx.vstack(
        rx.cond(
            WalletSignInState.error != "",
            rx.callout(WalletSignInState.error, icon="triangle_alert", color_scheme="red", role="alert", width="100%"),
        ),
        rx.cond(
            WalletSignInState.status == "choose",
            rx.vstack(
                rx.text("Choose a wallet:", size="2"),
                rx.foreach(
                    WalletSignInState.wallets,
                    lambda wallet: rx.button(
                        rx.cond(wallet["icon"] != "", rx.image(src=wallet["icon"], alt="", width="20px", height="20px")),
                        wallet["name"],
                        on_click=WalletSignInState.choose(wallet["id"]),
                        variant="outline",
                        size="3",
                        width="100%",
                    ),
                ),
                width="100%",
            ),
            rx.button(
                rx.icon("wallet", size=18),
                rx.cond(WalletSignInState.error != "", "Try again", button_label),
                on_click=WalletSignInState.start,
                id="wallet-start",
                loading=busy,
                disabled=busy,
                size="3",
                width="100%",
            ),
        ),
        rx.cond(
            WalletSignInState.status_text != "",
            rx.text(WalletSignInState.status_text, size="2", color_scheme="gray", id="wallet-status", role="status"),
        ),
        spacing="2",
        width="100%",
    )


ACCESS = StateAccess(WalletSignInState, "public")  # the wallet sign-in of /login and /login/connect
