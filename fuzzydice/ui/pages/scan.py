"""`/login/scan`: the mandatory authenticator enrolment (QR code, typed key, phone link)."""

from __future__ import annotations

import asyncio

import reflex as rx

from fuzzydice.mfa import flows as mfa_flows
from fuzzydice.mfa.qr import qr_svg_data_uri
from fuzzydice.services import get_services
from fuzzydice.ui import browser_scripts, routes
from fuzzydice.ui.components import page_card, sign_out_link
from fuzzydice.ui.page_spec import Page
from fuzzydice.ui.session_state import SessionState


class ScanState(rx.State):
    """The pending secret of this user, as QR code, text and link."""

    qr: str = ""
    grouped_secret: str = ""
    uri: str = ""

    @rx.event
    async def on_load(self):
        """Show the pending secret (the same one for 15 minutes) and follow other tabs."""
        session = await self.get_state(SessionState)
        if session._user_id is None:
            return
        outcome = await asyncio.to_thread(
            mfa_flows.pending_enrolment, get_services(), user_id=session._user_id, session_id=session._session_id
        )
        if not outcome.ok:  # enrolled meanwhile (another tab), or the session ended: the guard knows where to go
            self.reset()
            return rx.call_script(browser_scripts.hard_redirect_script(routes.VERIFY))
        enrolment = outcome.value
        self.qr = await asyncio.to_thread(qr_svg_data_uri, enrolment.uri)
        self.grouped_secret, self.uri = enrolment.grouped_secret, enrolment.uri
        return SessionState.watch_session

    @rx.event
    def continue_to_code(self):
        """On to the code that proves the app was set up."""
        return rx.redirect(routes.VERIFY + self._next_query())

    def _next_query(self) -> str:
        requested = self.router.url.query_parameters.get("next")
        return routes.with_next("", routes.final_destination(requested)) if requested else ""


def scan_page() -> rx.Component:
    """The enrolment page."""
    return page_card(
        rx.text(
            "Your account needs a second factor. Scan this code with an authenticator app "
            "(Google Authenticator, Authy, 1Password, Aegis…)."
        ),
        rx.center(
            rx.cond(
                ScanState.qr != "",
                rx.image(src=ScanState.qr, alt="QR code for your authenticator app", width="220px", height="220px"),
                rx.spinner(size="3"),
            ),
            width="100%",
        ),
        rx.vstack(
            rx.text("Can't scan? Type this key:", size="2"),
            rx.code(ScanState.grouped_secret, id="manual-key", size="3", aria_label="Setup key"),
            spacing="1",
        ),
        rx.box(
            rx.link("Open in authenticator app", href=ScanState.uri, id="open-in-app"),
            display=["block", "block", "none"],
        ),
        rx.button("Continue", on_click=ScanState.continue_to_code, size="3", width="100%"),
        sign_out_link(),
        heading="Set up your authenticator",
    )


PAGE = Page(
    route=routes.SCAN,
    title="Set up your authenticator · Fuzzy Dice",
    access="pending",
    component=scan_page,
    on_load=(ScanState.on_load,),
    states=(ScanState,),
)
