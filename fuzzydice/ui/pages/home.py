"""`/user/home`: who is signed in, the last sign-in, backup codes left, sign-out."""

from __future__ import annotations

import asyncio

import reflex as rx

from fuzzydice.mfa import flows as mfa_flows
from fuzzydice.services import get_services
from fuzzydice.ui import routes
from fuzzydice.ui.components import page_card
from fuzzydice.ui.session_state import SessionState


class HomeState(rx.State):
    """The home page (who is signed in comes from the shared session state)."""

    backup_codes_left: int = 0

    @rx.event
    async def on_load(self):
        """Load this user's numbers and follow the session so sign-out elsewhere reaches this tab."""
        user_id = (await self.get_state(SessionState))._user_id
        if user_id is not None:
            self.backup_codes_left = await asyncio.to_thread(mfa_flows.remaining_backup_codes, get_services(), user_id)
        return SessionState.watch_session


def home_page() -> rx.Component:
    """The signed-in home page."""
    return page_card(
        rx.text(
            "Signed in as ",
            rx.text.strong(SessionState.user_name),
            rx.cond(SessionState.user_email != "", rx.text.span(" (", SessionState.user_email, ")")),
        ),
        rx.text(
            "Last sign-in: ",
            rx.cond(SessionState.last_sign_in != "", SessionState.last_sign_in, "this is your first sign-in"),
            id="last-sign-in",
        ),
        rx.text("Backup codes left: ", HomeState.backup_codes_left, id="backup-codes-left"),
        rx.hstack(
            rx.link(rx.button("Security", variant="soft", size="3"), href=routes.SECURITY),
            rx.button("Sign out", on_click=SessionState.sign_out, variant="outline", size="3"),
        ),
        heading="Home",
        width="32rem",
    )
