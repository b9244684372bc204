"""`/user/wallet`: the account's wallets (address, copy, QR), balances, the tokens of each network,
the fund step and, in demo mode, "Add <network> to your wallet" (EIP-3085 `wallet_addEthereumChain`).
"""

from __future__ import annotations

import asyncio

import reflex as rx

from fuzzydice.auth import identities
from fuzzydice.chain.wallet_params import add_chain_params
from fuzzydice.services import get_services
from fuzzydice.ui import routes, wallet_scripts
from fuzzydice.ui.app_shell import app_shell, shell_card
from fuzzydice.ui.balances import BalancesState, balances_card
from fuzzydice.ui.event_payloads import REFUSED_MESSAGE
from fuzzydice.ui.funding import ADDRESS_STYLE, FundState, copy_button, fund_card, wrapping_button_style
from fuzzydice.ui.page_spec import Page
from fuzzydice.ui.session_state import SessionState
from fuzzydice.ui.wallet_rows import NetworkRow, WalletRow, added_words, network_rows, wallet_rows

class WalletState(rx.State):
    """The wallet page of this tab's user."""

    wallets: list[WalletRow] = []
    networks: list[NetworkRow] = []
    loaded: bool = False
    busy: bool = False
    """An add-network request is open in the wallet."""
    status: str = ""
    error: str = ""
    _adding: int = 0

    @rx.event
    async def on_load(self):
        """The user's wallets and the networks in force; follow the session."""
        user_id = (await self.get_state(SessionState))._user_id
        if user_id is None:
            return
        services = get_services()
        addresses = await asyncio.to_thread(identities.wallet_addresses, services, user_id)
        self.wallets = await asyncio.to_thread(wallet_rows, addresses)
        self.networks = network_rows(services.settings)
        self.loaded, self.busy, self.status, self.error = True, False, "", ""
        return SessionState.watch_session

    @rx.event
    def add_network(self, chain_id: int):
        """Ask the browser's wallet to add (and switch to) a network in force, in demo mode."""
        if self.busy:
            return
        settings = get_services().settings
        network = settings.network(chain_id)
        if network is None or not settings.is_demo or add_chain_params(network) is None:
            self.status, self.error = "", REFUSED_MESSAGE
            return
        self._adding, self.busy, self.status, self.error = network.chain_id, True, "", ""
        return rx.call_script(wallet_scripts.add_network_script(network), callback=WalletState.network_added)

    @rx.event
    def network_added(self, result: dict):
        """The wallet's answer, in words (a cancelled prompt is a choice, not an error)."""
        network = get_services().settings.network(self._adding)
        self.busy, self._adding = False, 0
        if network is None:
            return
        self.status, self.error = added_words(network, result if isinstance(result, dict) else {})


def _wallet(row) -> rx.Component:
    return rx.box(
        rx.flex(
            rx.image(src=row.qr, alt=row.alt, width="148px", height="148px", flex_shrink="0"),
            rx.vstack(
                rx.text(row.address, size="3", style=ADDRESS_STYLE, class_name="wallet-address"),
                copy_button(row.address),
                spacing="2",
                min_width="0",
                flex="1",
            ),
            gap="4",
            wrap="wrap",
            align="center",
        ),
        role="group",
        aria_label="Wallet " + row.short,
        width="100%",
    )


def _token(token) -> rx.Component:
    address = rx.cond(
        token.link != "",
        rx.link(token.address, href=token.link, is_external=True, style=ADDRESS_STYLE),
        rx.text(token.address, as_="span", style=ADDRESS_STYLE),
    )
    return rx.el.li(
        rx.text(rx.text.strong(token.symbol), " · ", token.name, size="2", as_="p"),
        rx.text(address, size="1", color_scheme="gray", as_="p"),
        style={"minWidth": "0"},
    )


def _network(network) -> rx.Component:
    return rx.el.section(
        rx.flex(
            rx.heading(network.name, size="3", as_="h3", style={"overflowWrap": "anywhere"}),
            rx.badge(network.layer, variant="soft", color_scheme=rx.cond(network.layer == "L1", "blue", "violet")),
            align="center",
            gap="2",
            wrap="wrap",
        ),
        rx.text(network.native, size="2", color_scheme="gray"),
        rx.el.ul(
            rx.foreach(network.tokens, _token),
            aria_label="Tokens on " + network.name,
            style={"listStyle": "none", "margin": "0", "padding": "0", "display": "grid", "gap": "0.5rem"},
        ),
        rx.cond(
            network.add_label != "",
            rx.button(
                network.add_label,
                on_click=WalletState.add_network(network.chain_id),
                loading=WalletState.busy,
                disabled=WalletState.busy,
                variant="outline",
                size="2",
                style=wrapping_button_style("var(--space-6)"),
            ),
        ),
        aria_label=network.name,
        style={"display": "flex", "flexDirection": "column", "gap": "0.5rem", "alignItems": "flex-start", "minWidth": "0"},
    )


def _wallets_card() -> rx.Component:
    return shell_card(
        rx.cond(
            WalletState.wallets.length() > 0,
            rx.vstack(rx.foreach(WalletState.wallets, _wallet), spacing="4", width="100%"),
            rx.text(
                "No wallet is linked to your account yet. ",
                rx.link("Link a wallet", href=routes.SECURITY),
                " on the Security page.",
                color_scheme="gray",
            ),
        ),
        heading="Your wallets",
        id="wallets",
    )


def _networks_card() -> rx.Component:
    return shell_card(
        rx.vstack(rx.foreach(WalletState.networks, _network), spacing="5", width="100%"),
        rx.cond(WalletState.status != "", rx.text(WalletState.status, size="2", role="status")),
        rx.cond(WalletState.error != "", rx.text(WalletState.error, size="2", color_scheme="red", role="alert")),
        heading="Networks and tokens",
        id="networks",
    )


def wallet_page() -> rx.Component:
    """The wallet page."""
    return app_shell(
        _wallets_card(),
        rx.cond(WalletState.wallets.length() > 0, balances_card()),
        fund_card(id="fund"),
        _networks_card(),
        heading="Wallet",
        current=routes.USER_WALLET,
    )


PAGE = Page(
    route=routes.USER_WALLET,
    title="Wallet · Fuzzy Dice",
    access="full",
    component=wallet_page,
    on_load=(WalletState.on_load, FundState.load, BalancesState.refresh),
    states=(WalletState,),
)
