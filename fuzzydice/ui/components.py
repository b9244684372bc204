"""Shared building blocks of the pages: the card layout, labelled fields, the submit button."""

from __future__ import annotations

import reflex as rx

LOGO = "/logo.svg"  # assets/logo.svg: Reflex serves assets/ at the site root (CSP img-src 'self')


def favicon_links() -> list[rx.Component]:
    """The `<head>` links of the favicons in assets/: the ICO for every browser, the SVG where supported."""
    return [
        rx.el.link(rel="icon", href="/favicon.ico", sizes="32x32"),  # made by scripts/make_favicon.py
        rx.el.link(rel="icon", href="/favicon.svg", type="image/svg+xml"),
    ]


def page_card(*children: rx.Component, heading: str, width: str = "26rem") -> rx.Component:
    """A centered card with a heading: the layout of every sign-in page."""
    return rx.center(
        rx.card(
            rx.vstack(
                rx.link(
                    rx.hstack(
                        rx.image(src=LOGO, id="brand-logo", alt="", width="32px", height="32px"),  # the text names the link
                        rx.text("Fuzzy Dice", weight="bold", color_scheme="violet"),
                        spacing="2",
                        align="center",
                    ),
                    href="/",
                    underline="none",
                ),
                rx.heading(heading, size="6", as_="h1"),
                *children,
                spacing="4",
                width="100%",
            ),
            size="3",
            width="100%",
            max_width=width,
        ),
        min_height="100vh",
        padding="1rem",
    )


def field_error(message: rx.Var[str], field_id: str) -> rx.Component:
    """The plain-words problem of one field, announced to screen readers."""
    return rx.cond(
        message != "",
        rx.text(message, id=f"{field_id}-error", color_scheme="red", size="2", role="alert"),
    )


def labelled_input(
    label: str,
    field_id: str,
    *,
    error: rx.Var[str] | None = None,
    hint: str | None = None,
    **input_props,
) -> rx.Component:
    """A label bound to its input (by id), an optional hint and the field's error."""
    return rx.vstack(
        rx.el.label(label, html_for=field_id, style={"fontWeight": "500", "fontSize": "0.9rem"}),
        rx.input(id=field_id, name=field_id, width="100%", size="3", **input_props),
        rx.text(hint, size="1", color_scheme="gray") if hint else rx.fragment(),
        field_error(error, field_id) if error is not None else rx.fragment(),
        spacing="1",
        width="100%",
        align="stretch",
    )


def password_input(
    label: str,
    field_id: str,
    *,
    shown: rx.Var[bool],
    toggle: rx.EventHandler,
    autocomplete: str,
    error: rx.Var[str] | None = None,
    hint: str | None = None,
) -> rx.Component:
    """A password field with a show/hide toggle (a real button, labelled for screen readers)."""
    return rx.vstack(
        rx.el.label(label, html_for=field_id, style={"fontWeight": "500", "fontSize": "0.9rem"}),
        rx.hstack(
            rx.input(
                id=field_id,
                name=field_id,
                type=rx.cond(shown, "text", "password"),
                auto_complete=autocomplete,
                required=True,
                width="100%",
                size="3",
            ),
            rx.button(
                rx.cond(shown, "Hide", "Show"),
                type="button",
                variant="soft",
                size="3",
                on_click=toggle,
                aria_label=rx.cond(shown, "Hide password", "Show password"),
                aria_controls=field_id,
            ),
            width="100%",
        ),
        rx.text(hint, size="1", color_scheme="gray") if hint else rx.fragment(),
        field_error(error, field_id) if error is not None else rx.fragment(),
        spacing="1",
        width="100%",
        align="stretch",
    )


def submit_button(label: str, busy: rx.Var[bool]) -> rx.Component:
    """The form's submit button: a spinner and disabled while the request runs (no double submit)."""
    return rx.button(label, type="submit", loading=busy, disabled=busy, size="3", width="100%")


def form_error(message: rx.Var[str]) -> rx.Component:
    """A form-level error in a callout."""
    return rx.cond(
        message != "",
        rx.callout(message, icon="triangle_alert", color_scheme="red", role="alert", width="100%"),
    )


def sign_out_link() -> rx.Component:
    """Sign-out, always offered on the steps that cannot be skipped."""
    from fuzzydice.ui.session_state import SessionState

    return rx.button("Sign out", on_click=SessionState.sign_out, variant="ghost", size="2")
