"""The balances card, shared by `/user/home` and `/user/wallet`: every linked wallet on every chain in force.

A page shows it with `balances_card()` and starts the first read from its `on_load`
(`BalancesState.refresh`); the card's Refresh button reads again. The read is a background
event (`fuzzydice.ui.background_reads`): one multicall per chain, chains at once, outside the
tab's state lock, so the page answers its other events meanwhile. A chain that fails shows its
error while the others show their balances. The values are the signed-in user's only: the
guard wipes this state with every other when the tab's session changes, and a read that
finishes after that is dropped.
"""

from __future__ import annotations

import asyncio
import logging

import reflex as rx

from fuzzydice.auth import identities
from fuzzydice.chain.balances import read_balances_async
from fuzzydice.services import Services, get_services
from fuzzydice.ui import routes
from fuzzydice.ui.app_shell import shell_card
from fuzzydice.ui.background_reads import begin_read, drop_read, still_current
from fuzzydice.ui.dashboard_rows import AmountLine, ChainBalanceRow, WalletBalanceRow, balance_rows, last_updated
from fuzzydice.ui.page_spec import StateAccess

logger = logging.getLogger(__name__)

READ_FAILED = "Your balances could not be read just now. Please try again in a moment."


MAX_ROUNDS = 3
"""Reads one refresh task makes at most (asked again meanwhile: once more)."""


class _Read:
    """One read of the user's balances, as rows (a failure of the whole read becomes `error`)."""

    def __init__(self) -> None:
        self.rows: list[ChainBalanceRow] = []
        self.updated = self.error = ""
        self.wallet_count = self.network_count = 0

    async def run(self, services: Services, user_id: int) -> None:
        networks = services.settings.active_networks
        self.network_count = len(networks)
        try:
            wallets = await asyncio.to_thread(identities.wallet_addresses, services, user_id)
            self.wallet_count = len(wallets)
            if wallets and networks:
                chains = await read_balances_async(services.chain, networks, wallets, services.clock)
                self.rows, self.updated = balance_rows(chains), last_updated([chain.read_at for chain in chains])
        except Exception:  # a bug or the database: words for the page, the details for the log
            logger.exception("reading balances failed")
            self.error = READ_FAILED


class BalancesState(rx.State):
    """The signed-in user's balances, per chain, ready to render."""

    chains: list[ChainBalanceRow] = []
    """One row per chain in force, in the settings' order."""
    loading: bool = False
    loaded: bool = False
    """A read has finished since the page opened (until then, the card says it is loading)."""
    last_updated: str = ""
    """"Last updated 14:02:03 UTC"."""
    wallet_count: int = 0
    network_count: int = 0
    error: str = ""
    """The read as a whole failed (a chain's own failure is in its row)."""
    hide_zero: bool = False
    """Leave out the currencies a wallet holds none of."""
    _run: str = ""
    _again: bool = False
    """Asked again while a read ran: read once more when it is done."""

    @rx.event(background=True)
    async def refresh(self):
        """Read every wallet's balances on every chain in force (outside the state lock).

        Asked while a read runs (e.g. right after a faucet grant), the running read reads once more when it
        is done, so the card always ends on a read that began after the last ask (at most `MAX_ROUNDS`).
        """
        services = get_services()
        async with self:
            run = await begin_read(self, "loading", "_run")
            if run is None:
                self._again = self.loading
                return
            self._again = False
        for round_ in range(MAX_ROUNDS):
            read = _Read()
            try:
                await read.run(services, run.user_id)  # failures become words; only cancellation gets out
            except asyncio.CancelledError:  # the tab navigated away or disconnected
                await drop_read(self, run, "loading", "_run")
                raise
            async with self:
                if not await still_current(self, run, "_run"):
                    return  # another session's tab now, or a newer read took over
                self.chains, self.last_updated, self.error = read.rows, read.updated, read.error
                self.wallet_count, self.network_count = read.wallet_count, read.network_count
                self.loaded = True
                again = self._again and round_ + 1 < MAX_ROUNDS
                self.loading, self._again = again, False
            if not again:
                return

    @rx.event
    def set_hide_zero(self, hide: bool):
        """Show or leave out the currencies a wallet holds none of."""
        self.hide_zero = hide is True


ACCESS = StateAccess(BalancesState, "full")
"""Shared by the home and wallet pages: their owner's balances, so a full session only."""


# --- the card ---------------------------------------------------------------------------------


def _amount_line(line: AmountLine) -> rx.Component:
    shown = rx.el.li(
        rx.text.strong(line.amount),
        " ",
        line.symbol,
        style={"display": "flex", "gap": "0.35em", "alignItems": "baseline", "minWidth": "0"},
        color=rx.cond(line.available, "inherit", "var(--gray-10)"),
    )
    return rx.cond(BalancesState.hide_zero & line.zero, rx.fragment(), shown)


def _wallet_block(wallet: WalletBalanceRow) -> rx.Component:
    return rx.box(
        rx.text(
            "Wallet ",
            rx.code(wallet.short, title=wallet.address, variant="ghost"),
            size="2",
            color_scheme="gray",
            as_="p",
        ),
        rx.el.ul(
            rx.foreach(wallet.lines, _amount_line),
            aria_label=f"Balances of {wallet.short}",
            style={
                "listStyle": "none",
                "margin": "0.25rem 0 0",
                "padding": "0",
                "display": "grid",
                "gridTemplateColumns": "repeat(auto-fill, minmax(9rem, 1fr))",
                "gap": "0.25rem 1rem",
            },
        ),
        width="100%",
        min_width="0",
    )


def _chain_section(chain: ChainBalanceRow) -> rx.Component:
    return rx.el.section(
        rx.flex(
            rx.heading(chain.network, size="3", as_="h3", style={"overflowWrap": "anywhere"}),
            rx.badge(chain.layer, variant="soft", color_scheme=rx.cond(chain.layer == "L1", "blue", "violet")),
            align="center",
            spacing="2",
            wrap="wrap",
        ),
        rx.cond(
            chain.error != "",
            rx.callout(chain.error, icon="triangle_alert", color_scheme="red", size="1", role="alert"),
            rx.vstack(rx.foreach(chain.wallets, _wallet_block), spacing="3", width="100%"),
        ),
        aria_label=chain.network,
        style={"display": "flex", "flexDirection": "column", "gap": "0.5rem", "minWidth": "0"},
    )


def _no_wallet() -> rx.Component:
    return rx.callout.root(
        rx.callout.icon(rx.icon("wallet")),
        rx.callout.text(
            "No wallet is linked to your account yet, so there are no balances to show. Get a wallet app "
            "(a browser extension such as MetaMask or Rabby, or a wallet on your phone), then link it to your "
            "account with “Link a wallet” on the page of your sign-in methods. ",
            rx.link("Link a wallet now", href=routes.SECURITY, id="link-wallet-help"),
        ),
        color_scheme="gray",
        id="no-wallet",
    )


def _body() -> rx.Component:
    chains = rx.vstack(rx.foreach(BalancesState.chains, _chain_section), spacing="5", width="100%")
    return rx.cond(
        BalancesState.loaded,
        rx.cond(
            BalancesState.error != "",
            rx.callout(BalancesState.error, icon="triangle_alert", color_scheme="red", role="alert"),
            rx.cond(
                BalancesState.wallet_count == 0,
                _no_wallet(),
                rx.cond(
                    BalancesState.network_count == 0,
                    rx.text("No network is set up on this server.", color_scheme="gray"),
                    chains,
                ),
            ),
        ),
        rx.text("Reading your balances…", color_scheme="gray", size="2"),
    )


def balances_card(heading: str = "Balances") -> rx.Component:
    """The card: Refresh, a spinner while reading, "Last updated …", then one section per chain.

    The page starts the first read from its `on_load` (add `BalancesState.refresh` there).
    """
    toolbar = rx.flex(
        rx.text(BalancesState.last_updated, id="balances-updated", size="1", color_scheme="gray"),
        rx.flex(
            rx.cond(BalancesState.loading, rx.spinner(size="2", id="balances-loading", aria_label="Loading balances")),
            rx.el.label(
                rx.switch(
                    checked=BalancesState.hide_zero,
                    on_change=BalancesState.set_hide_zero,
                    size="1",
                    id="hide-zero-balances",
                ),
                rx.text("Hide empty", size="2"),
                style={"display": "inline-flex", "gap": "0.4rem", "alignItems": "center", "cursor": "pointer"},
            ),
            rx.button(
                rx.icon("refresh_cw", size=14),
                "Refresh",
                on_click=BalancesState.refresh,
                disabled=BalancesState.loading,
                variant="soft",
                size="2",
                id="balances-refresh",
            ),
            align="center",
            spacing="3",
            margin_left="auto",
        ),
        align="center",
        spacing="2",
        wrap="wrap",
        width="100%",
    )
    return shell_card(
        toolbar,
        _body(),
        heading=heading,
        id="balances",
        aria_busy=BalancesState.loading,
    )
