"""`/user/fund`: the fund step after enrolment (design 000 step 4), skippable.

The backup codes page of a first enrolment continues here. The fund card (`fuzzydice.ui.funding`)
gives test funds in demo mode, the address and payment QR codes otherwise, or says how to get a
wallet; then "Skip for now" goes home and "Continue" to `/launch`.
"""

from __future__ import annotations

import reflex as rx

from fuzzydice.ui import routes
from fuzzydice.ui.app_shell import app_shell
from fuzzydice.ui.balances import BalancesState, balances_card
from fuzzydice.ui.fund_rows import NO_WALLET
from fuzzydice.ui.funding import FundState, fund_card
from fuzzydice.ui.page_spec import Page


def link_button(label: str, href: str, **props) -> rx.Component:
    """A link that looks like a button (it navigates: a link for screen readers too)."""
    return rx.button(rx.link(label, href=href, underline="none"), as_child=True, size="3", **props)


def fund_page() -> rx.Component:
    """The fund step."""
    return app_shell(
        rx.text(
            "Your account is protected. Put some funds in your wallet to play, or do it later from the Wallet page.",
        ),
        fund_card(id="fund"),
        rx.cond(FundState.mode != NO_WALLET, balances_card("Your balances")),
        rx.flex(
            link_button("Skip for now", routes.USER_HOME, variant="soft"),
            link_button("Continue", routes.LAUNCH),
            gap="3",
            justify="end",
            wrap="wrap",
        ),
        heading="Fund your wallet",
        current=None,
        width="44rem",
    )


PAGE = Page(
    route=routes.FUND,
    title="Fund your wallet · Fuzzy Dice",
    access="full",
    component=fund_page,
    on_load=(FundState.load, BalancesState.refresh),
)
