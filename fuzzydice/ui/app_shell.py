"""The app shell of the signed-in pages: a header (logo, Home, Wallet, Launch, Security, the account
menu with sign-out), a skip link and the page's content column.

A page module builds its component with it::

    from fuzzydice.ui import routes
    from fuzzydice.ui.app_shell import app_shell, shell_card

    def wallet_page() -> rx.Component:
        return app_shell(
            shell_card(rx.text("…"), heading="Balances"),   # each section of the page in its own card
            shell_card(rx.text("…"), heading="Send"),
            heading="Wallet",                               # the page's <h1>
            current=routes.USER_WALLET,                     # the nav link marked aria-current="page"
        )

Landmarks: `<header>` (banner) holding `<nav aria-label="Main">`, then `<main id="main-content">`
that the "Skip to content" link (the first focusable element) moves to. At widths below 48em the nav
links fold into a "Navigation menu" button; the header never overflows 390 px. The account menu
(button "Account menu") shows the user's name and email and "Sign out" (`SessionState.sign_out`).
The user's name appears as text only inside the open menu, so a page may show it once itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from fuzzydice.ui import routes
from fuzzydice.ui.components import LOGO
from fuzzydice.ui.session_state import SessionState

MAIN_ID = "main-content"
"""The id of `<main>`: the skip link's target."""
SHELL_WIDTH = "60rem"
"""The width of the header's row and the default width of the content column (a dashboard)."""
WIDE = ["none", "none", "flex"]
"""Shown from the `md`-ish breakpoint (48em) up: the nav links."""
NARROW = ["flex", "flex", "none"]
"""Shown below 48em: the navigation menu button."""


@dataclass(frozen=True)
class NavItem:
    """One link of the header's navigation."""

    label: str
    route: str


NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem("Home", routes.USER_HOME),
    NavItem("Wallet", routes.USER_WALLET),
    NavItem("Launch", routes.LAUNCH),
    NavItem("Security", routes.SECURITY),
)
"""The signed-in pages, in the header's order."""


def _current_props(item: NavItem, current: str | None) -> dict:
    """`aria-current="page"` on the link of the page being shown."""
    return {"aria_current": "page"} if item.route == current else {}


def _skip_link() -> rx.Component:
    """Off-screen until focused (the first Tab of the page); a plain fragment link to `<main>`."""
    return rx.el.a(
        "Skip to content",
        href=f"#{MAIN_ID}",
        reload_document=True,  # the browser's own fragment navigation: it moves focus to <main>
        id="skip-link",
        style={
            "position": "absolute",
            "left": "-10000px",
            "top": "0.5rem",
            "zIndex": "100",
            "padding": "0.5rem 1rem",
            "borderRadius": "var(--radius-2)",
            "background": "var(--color-panel-solid)",
            "color": "var(--accent-11)",
            "boxShadow": "var(--shadow-3)",
        },
        _focus={"left": "0.5rem"},
    )


def _brand() -> rx.Component:
    """The logo and the name, linking home (the words name the link; the logo beside them is decorative)."""
    return rx.link(
        rx.hstack(
            rx.image(src=LOGO, id="brand-logo", alt="", width="28px", height="28px"),
            rx.text("Fuzzy Dice", weight="bold", color_scheme="violet", white_space="nowrap"),
            spacing="2",
            align="center",
        ),
        href=routes.USER_HOME,
        underline="none",
        flex_shrink="0",
    )


def _nav_link(item: NavItem, current: str | None) -> rx.Component:
    is_current = item.route == current
    return rx.el.li(
        rx.link(
            item.label,
            href=item.route,
            underline="none",
            weight="medium",
            color_scheme="violet" if is_current else "gray",
            high_contrast=not is_current,
            style={
                "display": "block",
                "padding": "0.375rem 0.75rem",
                "borderRadius": "var(--radius-2)",
                "background": "var(--accent-a3)" if is_current else "transparent",
            },
            **_current_props(item, current),
        ),
    )


def _nav(current: str | None) -> rx.Component:
    """The main navigation: a row of links when wide, a menu button when narrow."""
    wide = rx.el.ul(
        *(_nav_link(item, current) for item in NAV_ITEMS),
        display=WIDE,
        style={"listStyle": "none", "margin": "0", "padding": "0", "gap": "0.25rem", "alignItems": "center"},
    )
    narrow = rx.box(
        rx.menu.root(
            rx.menu.trigger(
                rx.icon_button(
                    rx.icon("menu", size=20), variant="ghost", size="2", aria_label="Navigation menu", id="nav-menu-trigger"
                ),
            ),
            rx.menu.content(
                *(
                    rx.menu.item(
                        # React Router's link itself (one element) becomes the menu item: <a role="menuitem">.
                        rx.el.a(
                            item.label,
                            href=item.route,
                            style={"fontWeight": "700", "color": "var(--accent-11)"} if item.route == current else {},
                            **_current_props(item, current),
                        ),
                        as_child=True,
                    )
                    for item in NAV_ITEMS
                ),
                align="end",
            ),
        ),
        display=NARROW,
        margin_left="auto",
    )
    return rx.el.nav(
        wide,
        narrow,
        aria_label="Main",
        style={"display": "flex", "alignItems": "center", "flex": "1", "minWidth": "0", "marginLeft": "1rem"},
    )


def _initial() -> rx.Var[str]:
    """The first letter of the user's name, for the account button's avatar."""
    return rx.cond(SessionState.user_name != "", SessionState.user_name[:1].upper(), "?")


def _avatar() -> rx.Component:
    """The account button's picture: a wallet for a wallet account (its name is an address), else the initial."""
    return rx.cond(
        SessionState.user_name.startswith("0x"),
        rx.center(
            rx.icon("wallet", size=16),
            id="account-avatar-wallet",
            width="32px",
            height="32px",
            border_radius="9999px",
            background="var(--violet-a3)",
            color="var(--violet-11)",
        ),
        rx.avatar(fallback=_initial(), size="2", radius="full", color_scheme="violet"),
    )


def _account_menu() -> rx.Component:
    """The user's name and email, and "Sign out"."""
    return rx.menu.root(
        rx.menu.trigger(
            rx.button(
                _avatar(),
                rx.icon("chevron_down", size=16),
                variant="ghost",
                size="2",
                aria_label="Account menu",
                id="account-menu-trigger",
                flex_shrink="0",
            ),
        ),
        rx.menu.content(
            rx.box(
                rx.text(SessionState.user_name, weight="bold", size="2", as_="p", id="account-name"),
                rx.cond(
                    SessionState.user_email != "",
                    rx.text(SessionState.user_email, size="1", color_scheme="gray", as_="p", id="account-email"),
                ),
                padding="0.5rem 0.75rem",
                max_width="16rem",
                style={"overflowWrap": "anywhere"},
            ),
            rx.menu.separator(),
            rx.menu.item("Sign out", on_select=SessionState.sign_out),
            align="end",
        ),
    )


def _header(current: str | None) -> rx.Component:
    return rx.el.header(
        rx.flex(
            _brand(),
            _nav(current),
            _account_menu(),
            align="center",
            spacing="3",
            max_width=SHELL_WIDTH,
            margin="0 auto",
            padding="0.5rem 1rem",
            width="100%",
        ),
        style={
            "position": "sticky",
            "top": "0",
            "zIndex": "10",
            "background": "var(--color-panel-solid)",
            "borderBottom": "1px solid var(--gray-a5)",
        },
    )


def app_shell(*children: rx.Component, heading: str, current: str | None, width: str = SHELL_WIDTH) -> rx.Component:
    """A signed-in page: the header, then `children` under the `<h1>` `heading` in a centered column.

    Args:
        *children: The page's content, stacked with the shell's spacing (cards: `shell_card`).
        heading: The page's heading (its only `<h1>`).
        current: The route of this page (`routes.…`): its nav link is marked `aria-current="page"`;
            None on a page that is not in the nav.
        width: The content column's maximum width (a dashboard by default; narrower for a form).
    """
    return rx.box(
        _skip_link(),
        _header(current),
        rx.el.main(
            rx.vstack(
                rx.heading(heading, size="7", as_="h1"),
                *children,
                spacing="4",
                width="100%",
                align="stretch",
            ),
            id=MAIN_ID,
            tab_index=-1,
            style={
                "maxWidth": width,
                "width": "100%",
                "margin": "0 auto",
                "padding": "1.5rem 1rem 3rem",
                "boxSizing": "border-box",
                "outline": "none",
            },
        ),
        min_height="100vh",
    )


def shell_card(*children: rx.Component, heading: str | None = None, **props) -> rx.Component:
    """One section of a shell page: a card with an optional `<h2>` over its children, stacked.

    Args:
        *children: The section's content.
        heading: The section's heading, if it has one.
        **props: Passed to the card (e.g. `id`).
    """
    title = [rx.heading(heading, size="4", as_="h2")] if heading else []
    return rx.card(
        rx.vstack(*title, *children, spacing="4", width="100%"),
        size="3",
        width="100%",
        **props,
    )
