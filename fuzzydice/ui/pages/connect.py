"""`/login/connect`: no wallet was found; how to get one, and "check again"."""

from __future__ import annotations

import reflex as rx

from fuzzydice.ui import routes
from fuzzydice.ui.components import page_card
from fuzzydice.ui.page_spec import Page
from fuzzydice.ui.wallet_signin import WalletSignInState, wallet_panel

WALLETS = (
    ("MetaMask", "https://metamask.io/download/"),
    ("Rabby", "https://rabby.io/"),
    ("Coinbase Wallet", "https://www.coinbase.com/wallet/downloads"),
    ("Brave Wallet (built into the Brave browser)", "https://brave.com/wallet/"),
)


def connect_page() -> rx.Component:
    """The install-a-wallet page."""
    return page_card(
        rx.text(
            "No Ethereum wallet was found in this browser. Install a wallet extension, create or import an "
            "account in it, then come back and check again."
        ),
        rx.el.ul(
            *[rx.el.li(rx.link(name, href=url, is_external=True)) for name, url in WALLETS],
            style={"paddingLeft": "1.2rem", "lineHeight": "1.9"},
        ),
        rx.text(
            "On a phone, open this page in your wallet app's built-in browser.", size="2", color_scheme="gray"
        ),
        wallet_panel("Check again"),
        rx.text("Or ", rx.link("sign in with email and password", href=routes.LOGIN), size="2"),
        heading="Get a wallet",
    )


PAGE = Page(
    route=routes.CONNECT,
    title="Get a wallet · Fuzzy Dice",
    access="public",
    component=connect_page,
    on_load=(WalletSignInState.on_load,),
)
