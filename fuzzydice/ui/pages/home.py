"""`/user/home`: who is signed in, the last sign-in, sign-out."""

from __future__ import annotations

import reflex as rx

from fuzzydice.ui.components import page_card
from fuzzydice.ui.session_state import SessionState


class HomeState(rx.State):
    """The home page (its data comes from the shared session state)."""

    @rx.event
    def on_load(self):
        """Start following the session so sign-out elsewhere reaches this tab."""
        return SessionState.watch_session


def home_page() -> rx.Component:
    """The signed-in home page."""
    return page_card(
        rx.text("Signed in as ", rx.text.strong(SessionState.user_name), " ", rx.text.span("(", SessionState.user_email, ")")),
        rx.text(
            "Last sign-in: ",
            rx.cond(SessionState.last_sign_in != "", SessionState.last_sign_in, "this is your first sign-in"),
            id="last-sign-in",
        ),
        rx.button("Sign out", on_click=SessionState.sign_out, variant="outline", size="3"),
        heading="Home",
        width="32rem",
    )
