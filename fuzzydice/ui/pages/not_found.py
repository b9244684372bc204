"""Any address the app does not serve: the logo, "Page not found" and the way back home.

Reflex serves its `404` page for every unknown path (status 404 in production). Not a declared
`Page`: it owns no state, and the guard treats an unknown path as a full page, so a visitor
without a session is sent to sign in instead, and lands here afterwards.
"""

from __future__ import annotations

import reflex as rx

from fuzzydice.ui import routes
from fuzzydice.ui.components import page_card

ROUTE = "404"  # reflex constants.Page404.SLUG: the catch-all page
TITLE = "Page not found · Fuzzy Dice"


def not_found_page() -> rx.Component:
    """The styled 404 page."""
    return page_card(
        rx.text("Error 404", size="2", color_scheme="gray", id="not-found-code"),
        rx.text("There is no page at this address. The link may be mistyped, or the page may have moved."),
        rx.link(rx.button("Back to home", size="3"), href=routes.USER_HOME),
        heading="Page not found",
    )


def add_not_found_page(app: rx.App) -> None:
    """Register the page Reflex shows for unknown paths."""
    app.add_page(not_found_page, route=ROUTE, title=TITLE)
