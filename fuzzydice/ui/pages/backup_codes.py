"""`/login/backup-codes`: the fresh backup codes, shown until the user says they saved them; then the page
`next` names (the fund step after a first enrolment), else home."""

from __future__ import annotations

import asyncio

import reflex as rx

from fuzzydice.mfa import backup_codes as backup_codes_mechanism
from fuzzydice.mfa import flows as mfa_flows
from fuzzydice.services import get_services
from fuzzydice.ui import routes
from fuzzydice.ui.components import page_card
from fuzzydice.ui.page_spec import Page
from fuzzydice.ui.session_state import SessionState

DOWNLOAD_NAME = "fuzzydice-backup-codes.txt"


class BackupCodesState(rx.State):
    """The codes to show (this user's own, readable until Continue)."""

    codes: list[str] = []

    async def _ids(self) -> tuple[int | None, int | None]:
        session = await self.get_state(SessionState)
        return session._user_id, session._session_id

    @rx.event
    async def on_load(self):
        """Show the codes again on every load until Continue (only in the session they were made for)."""
        user_id, session_id = await self._ids()
        if user_id is None or session_id is None:
            return
        codes = await asyncio.to_thread(
            mfa_flows.backup_codes_to_show, get_services(), user_id=user_id, session_id=session_id
        )
        if codes is None:
            return rx.redirect(routes.USER_HOME, replace=True)
        self.codes = codes
        return SessionState.watch_session

    @rx.event
    def download(self):
        """Save the codes as a text file."""
        text = backup_codes_mechanism.download_text([code.replace("-", "") for code in self.codes])
        return rx.download(data=text, filename=DOWNLOAD_NAME)

    @rx.event
    async def done(self):
        """The user saved them: stop showing them, go on."""
        user_id, session_id = await self._ids()
        if user_id is not None and session_id is not None:
            await asyncio.to_thread(
                mfa_flows.acknowledge_backup_codes, get_services(), user_id=user_id, session_id=session_id
            )
        self.codes = []
        # A first enrolment goes on to the fund step (`?next=` from the verify page); new codes, home.
        return rx.redirect(routes.final_destination(self.router.url.query_parameters.get("next")), replace=True)


def backup_codes_page() -> rx.Component:
    """The backup codes page."""
    return page_card(
        rx.text(
            "Your authenticator is set up. If you lose your phone, each of these codes lets you in once. "
            "Save them now: they are not shown again."
        ),
        rx.heading("Backup codes", size="4", as_="h2", id="backup-codes-heading"),
        rx.el.ul(
            rx.foreach(BackupCodesState.codes, lambda code: rx.el.li(rx.code(code, size="3", white_space="nowrap"))),
            aria_labelledby="backup-codes-heading",
            # Two columns where they fit, one on a phone: a code never breaks across lines.
            style={"columns": "2 12rem", "listStyle": "none", "padding": "0", "margin": "0", "lineHeight": "2"},
        ),
        rx.hstack(
            rx.button("Download", on_click=BackupCodesState.download, variant="outline", size="3"),
            rx.button("Continue", on_click=BackupCodesState.done, size="3"),
            spacing="3",
        ),
        heading="Save your backup codes",
    )


PAGE = Page(
    route=routes.BACKUP_CODES,
    title="Backup codes · Fuzzy Dice",
    access="full",
    component=backup_codes_page,
    on_load=(BackupCodesState.on_load,),
    states=(BackupCodesState,),
)
