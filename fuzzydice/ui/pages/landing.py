"""`/`: what this is, and the ways in."""

from __future__ import annotations

import reflex as rx

from fuzzydice.ui import routes
from fuzzydice.ui.components import page_card
from fuzzydice.ui.page_spec import Page


def landing_page() -> rx.Component:
    """The landing page."""
    return page_card(
        rx.text(
            "Sign in with a password or an Ethereum wallet, protected by a second factor "
            "(authenticator app, email or SMS code, backup codes)."
        ),
        rx.hstack(
            rx.link(rx.button("Sign in", size="3"), href=routes.LOGIN),
            rx.link(rx.button("Create account", size="3", variant="outline"), href=routes.REGISTER),
            spacing="3",
        ),
        heading="Two-factor sign-in you host yourself",
    )


PAGE = Page(
    route=routes.LANDING,
    title="Fuzzy Dice",
    access="public",
    component=landing_page,
)
