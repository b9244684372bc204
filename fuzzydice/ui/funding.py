"""The fund step, shared by `/user/fund` and `/user/wallet`: `FundState` and `fund_card()`.

What it shows depends on the deployment and the account:
    faucet: demo mode with test chains in force (`funding.faucet.faucet_networks`): for each
        linked wallet and each such chain a button that sends test ETH and tokens (once a day).
    receive: no faucet: for each linked wallet and each chain, the address with a copy button
        and an EIP-681 QR code (`ethereum:<address>@<chainId>`) to pay it from another wallet.
    no_wallet: the account has no wallet: where to get one, and a link to link it.

A faucet request runs in a background event (the transfers are mined before it answers),
so the page keeps answering meanwhile; a second click on the same button while it runs is
ignored on the server, and the faucet itself sends once per address, chain and day. After a
grant the balances card is asked to read again.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime

import reflex as rx

from fuzzydice import audit
from fuzzydice.funding import faucet
from fuzzydice.services import get_services
from fuzzydice.ui import routes
from fuzzydice.ui.balances import BalancesState
from fuzzydice.ui.fund_rows import (
    FAUCET,
    NO_WALLET,
    RECEIVE,
    FaucetRow,
    ReceiveRow,
    fund_view,
    funded_note,
    sent_words,
    waiting_note,
)
from fuzzydice.ui.messages import explain
from fuzzydice.ui.page_spec import StateAccess
from fuzzydice.ui.session_state import SessionState

GET_A_WALLET_URL = "https://ethereum.org/en/wallets/find-wallet/"
"""Where a person without a wallet is sent to choose one (the product never holds keys)."""

def wrapping_button_style(min_height: str) -> dict[str, str]:
    """A button whose long label wraps instead of overflowing a narrow screen (390 px), at least `min_height` tall."""
    return {"maxWidth": "100%", "height": "auto", "minHeight": min_height, "whiteSpace": "normal"}


ADDRESS_STYLE = {"fontFamily": "var(--code-font-family)", "overflowWrap": "anywhere", "wordBreak": "break-all"}
"""A full address in monospace that wraps anywhere (42 characters do not fit 390 px on one line)."""


# --- the state ---------------------------------------------------------------------------


class FundState(rx.State):
    """The fund card of this tab's user (loaded by the pages that show it)."""

    mode: str = ""
    faucet_rows: list[FaucetRow] = []
    receive_rows: list[ReceiveRow] = []

    @rx.var
    def heading(self) -> str:
        """The card's heading for its mode."""
        return {FAUCET: "Test funds", RECEIVE: "Receive funds", NO_WALLET: "Get a wallet"}.get(self.mode, "Funds")

    @rx.event
    async def load(self):
        """Read what to show for this user; follow the session (sign-out elsewhere reaches this tab)."""
        user_id = (await self.get_state(SessionState))._user_id
        if user_id is None:
            return
        view = await asyncio.to_thread(fund_view, get_services(), user_id)
        self.mode = view.mode
        self.faucet_rows = list(view.faucet_rows)
        self.receive_rows = list(view.receive_rows)
        return SessionState.watch_session

    def _update(self, key: str, **changes) -> None:
        self.faucet_rows = [dataclasses.replace(row, **changes) if row.key == key else row for row in self.faucet_rows]

    @rx.event(background=True)
    async def request(self, key: str):
        """Ask the faucet for the row `key` (one of this user's rows; a second click while it runs is ignored)."""
        async with self:
            session = await self.get_state(SessionState)
            user_id, session_id, owner = session._user_id, session._session_id, session._data_owner
            row = next((row for row in self.faucet_rows if row.key == key), None)
            if user_id is None or row is None or row.busy:
                return
            self._update(key, busy=True, message="", error="")
            origin = audit.Origin(
                session_id=session_id, ip=self.router.session.client_ip, user_agent=self.router.headers.user_agent
            )
        services = get_services()
        outcome = None
        try:
            outcome = await asyncio.to_thread(
                faucet.request_funds, services, user_id, row.address, row.chain_id, origin=origin
            )
        finally:
            async with self:
                self._update(key, busy=False)
                # Words only for the session that asked: a tab signed out meanwhile had its states wiped.
                session = await self.get_state(SessionState)
                if outcome is not None and (session._user_id, session._data_owner) == (user_id, owner):
                    self._show(key, row, outcome, services.clock.now())
        if outcome is not None and outcome.ok:
            yield BalancesState.refresh

    def _show(self, key: str, row: FaucetRow, outcome, now: datetime) -> None:
        """The grant in words under its button, or why there was none."""
        if outcome.ok:
            self._update(key, message=sent_words(outcome.value, row.network), note=funded_note(outcome.value.next_at, now))
        else:
            note = waiting_note(outcome.retry_at, now) if outcome.retry_at else row.note
            self._update(key, error=explain(outcome), note=note)


ACCESS = StateAccess(FundState, "full")


# --- the card ----------------------------------------------------------------------------


def _faucet_row(row) -> rx.Component:
    return rx.box(
        rx.vstack(
            rx.text(rx.text.strong(row.network), " · to ", rx.code(row.short, title=row.address), size="2"),
            rx.button(
                row.label,
                on_click=FundState.request(row.key),
                loading=row.busy,
                disabled=row.busy,
                size="3",
                style=wrapping_button_style("var(--space-7)"),
            ),
            rx.cond(row.note != "", rx.text(row.note, size="2", color_scheme="gray", class_name="fund-note")),
            rx.cond(row.message != "", rx.text(row.message, size="2", color_scheme="green", role="status")),
            rx.cond(row.error != "", rx.text(row.error, size="2", color_scheme="red", role="alert")),
            spacing="2",
            align="start",
            width="100%",
        ),
        role="group",
        aria_label=row.network + " · " + row.short,
        width="100%",
        padding_y="0.25rem",
    )


def copy_button(address) -> rx.Component:
    """Copy `address` to the clipboard (in the browser, no round trip) and say so."""
    return rx.button(
        rx.icon("copy", size=16),
        "Copy address",
        on_click=[rx.set_clipboard(address), rx.toast.success("Address copied", duration=2000)],
        variant="soft",
        size="2",
    )


def _receive_row(row) -> rx.Component:
    return rx.box(
        rx.vstack(
            rx.heading(row.network, size="3", as_="h3"),
            rx.text(row.address, size="2", style=ADDRESS_STYLE, class_name="fund-address"),
            copy_button(row.address),
            rx.image(src=row.qr, alt=row.alt, width="180px", height="180px", max_width="100%"),
            rx.text(row.uri, size="1", color_scheme="gray", style=ADDRESS_STYLE),
            spacing="2",
            align="start",
            width="100%",
        ),
        role="group",
        aria_label=row.network,
        width="100%",
    )


def _no_wallet() -> rx.Component:
    return rx.vstack(
        rx.text(
            "You need an Ethereum wallet to hold funds. Fuzzy Dice never holds your keys: get a wallet app or "
            "browser extension, then link it to your account."
        ),
        rx.hstack(
            rx.link("Find a wallet (ethereum.org)", href=GET_A_WALLET_URL, is_external=True),
            rx.link("Link a wallet", href=routes.SECURITY),
            spacing="4",
            wrap="wrap",
        ),
        spacing="3",
        width="100%",
    )


def fund_card(**props) -> rx.Component:
    """The fund step as one card (see the module docstring); the page's on_load runs `FundState.load`."""
    return rx.card(
        rx.vstack(
            rx.heading(FundState.heading, size="4", as_="h2"),
            rx.match(
                FundState.mode,
                (
                    FAUCET,
                    rx.vstack(
                        rx.text(
                            "Test ETH and test tokens for your wallet, once a day on each local network. "
                            "They have no value outside this demo.",
                            size="2",
                        ),
                        rx.foreach(FundState.faucet_rows, _faucet_row),
                        spacing="3",
                        width="100%",
                    ),
                ),
                (
                    RECEIVE,
                    rx.vstack(
                        rx.text(
                            "There is no faucet here: send funds to your address from another wallet or an exchange. "
                            "Scan a code with your phone's wallet, or copy the address.",
                            size="2",
                        ),
                        rx.foreach(FundState.receive_rows, _receive_row),
                        spacing="4",
                        width="100%",
                    ),
                ),
                (NO_WALLET, _no_wallet()),
                rx.center(rx.spinner(size="3"), width="100%", padding="1rem"),
            ),
            spacing="4",
            width="100%",
        ),
        size="3",
        width="100%",
        **props,
    )
