"""`/login/verify`: the code from the authenticator (or a backup code); activates TOTP on enrolment."""

from __future__ import annotations

import asyncio

import reflex as rx

from fuzzydice.auth.sessions import FULL
from fuzzydice.journey import StepKind
from fuzzydice.mfa import flows as mfa_flows
from fuzzydice.services import get_services
from fuzzydice.ui import routes
from fuzzydice.ui.components import form_error, page_card, sign_out_link, submit_button
from fuzzydice.ui.event_payloads import text_field
from fuzzydice.ui.messages import explain
from fuzzydice.ui.page_spec import Page
from fuzzydice.ui.session_state import SessionState


class VerifyState(rx.State):
    """The second step: enrolment confirmation or sign-in code."""

    enrolling: bool = False
    use_backup: bool = False
    can_switch: bool = False
    error: str = ""
    busy: bool = False
    digits: int = 6

    @rx.event
    async def on_load(self):
        """Decide between activating a new authenticator and signing in; follow other tabs."""
        session = await self.get_state(SessionState)
        step = session._step
        self.enrolling = step is not None and step.kind == StepKind.ENROL
        # The journey lists the methods this sign-in may use, best first.
        methods = step.methods if step is not None else ()
        self.can_switch = mfa_flows.TOTP in methods and mfa_flows.BACKUP in methods
        self.use_backup = methods[:1] == (mfa_flows.BACKUP,)
        self.error, self.busy = "", False
        self.digits = get_services().settings.totp_digits
        return SessionState.watch_session

    @rx.event
    def toggle_backup(self):
        """Switch between the authenticator code and a backup code (when both are offered)."""
        if self.can_switch:
            self.use_backup, self.error = not self.use_backup, ""

    @rx.event
    async def submit(self, form: dict):
        """Check the code (in a thread); on success hand over a full session."""
        if self.busy:
            return
        self.busy, self.error = True, ""
        yield
        session = await self.get_state(SessionState)
        user_id, session_id, services = session._user_id, session._session_id, get_services()
        if user_id is None or session_id is None:
            self.busy = False
            return
        # Reflex keys form data by the inputs' ids.
        code = text_field(form, "backup_code" if self.use_backup else "code")
        method = mfa_flows.BACKUP if self.use_backup and not self.enrolling else mfa_flows.TOTP
        if self.enrolling:
            result = await asyncio.to_thread(
                mfa_flows.activate_totp, services, user_id=user_id, session_id=session_id, code=code
            )
            next_path = routes.with_next(routes.BACKUP_CODES, routes.FUND)  # a first enrolment: then fund the wallet
        else:
            result = await asyncio.to_thread(
                mfa_flows.verify_second_step, services, user_id=user_id, session_id=session_id, code=code, method=method
            )
            next_path = routes.final_destination(self.router.url.query_parameters.get("next"))
        if not result.ok:
            self.busy, self.error = False, explain(result)
            return
        yield await session._begin_session(
            user_id=user_id, factor_level=FULL, remember=session._remember, next_path=next_path, second_factor=method
        )


def code_field() -> rx.Component:
    """The code input: digits for the authenticator, letters and dashes for a backup code."""
    return rx.cond(
        VerifyState.use_backup,
        rx.vstack(
            rx.el.label("Backup code", html_for="backup-code", style={"fontWeight": "500"}),
            rx.input(
                id="backup-code", name="code", auto_complete="off", placeholder="XXXX-XXXX-XXXX-XXXX",
                max_length=24, required=True, size="3", width="100%",
            ),
            width="100%",
        ),
        rx.vstack(
            rx.el.label("Code from your authenticator app", html_for="code", style={"fontWeight": "500"}),
            rx.input(
                # No `pattern` and room for separators: a code pasted as apps show it ("123 456") must fit
                # and submit; the server ignores spaces and dashes.
                id="code", name="code", input_mode="numeric", auto_complete="one-time-code",
                max_length=VerifyState.digits + 4, required=True, size="3", width="100%",
            ),
            width="100%",
        ),
    )


def verify_page() -> rx.Component:
    """The code page."""
    return page_card(
        rx.text(
            rx.cond(
                VerifyState.enrolling,
                "Enter the code your authenticator app shows now, to finish setting it up.",
                "Enter the code from your authenticator app.",
            )
        ),
        rx.form(
            rx.vstack(
                form_error(VerifyState.error),
                code_field(),
                submit_button("Verify", VerifyState.busy),
                spacing="4",
                width="100%",
            ),
            on_submit=VerifyState.submit,
            reset_on_submit=True,
            width="100%",
        ),
        rx.cond(
            VerifyState.enrolling,
            rx.link("Back to the QR code", href=routes.SCAN),
            rx.cond(
                VerifyState.can_switch,
                rx.button(
                    rx.cond(VerifyState.use_backup, "Use the authenticator app instead", "Use a backup code instead"),
                    on_click=VerifyState.toggle_backup,
                    variant="ghost",
                    size="2",
                ),
            ),
        ),
        sign_out_link(),
        heading="Two-step verification",
    )


PAGE = Page(
    route=routes.VERIFY,
    title="Two-step verification · Fuzzy Dice",
    access="pending",
    component=verify_page,
    on_load=(VerifyState.on_load,),
    states=(VerifyState,),
)
