"""`/login`: a wallet first, then email + password with "remember me"."""

from __future__ import annotations

import reflex as rx

from fuzzydice.auth import flows
from fuzzydice.auth.password_pool import run_password_flow
from fuzzydice.outcome import Code, Failure
from fuzzydice.services import get_services
from fuzzydice.ui import routes
from fuzzydice.ui.auth_form import AuthFormMixin
from fuzzydice.ui.components import form_error, labelled_input, page_card, password_input, submit_button
from fuzzydice.ui.event_payloads import text_field
from fuzzydice.ui.messages import explain, remember_label
from fuzzydice.settings import get_settings
from fuzzydice.ui.page_spec import Page
from fuzzydice.ui.session_state import SessionState
from fuzzydice.ui.wallet_signin import WalletSignInState, wallet_panel


GET_A_WALLET_URL = "https://ethereum.org/en/wallets/find-wallet/"
"""Where a person without a wallet is sent: ethereum.org's neutral list of wallets."""

EXPIRED_NOTICE = "Your sign-in expired before the second step was done. Please sign in again."


class LoginState(AuthFormMixin, rx.State):
    """The sign-in form."""

    error: str = ""
    notice: str = ""

    def _after_load(self) -> None:
        expired = self.router.url.query_parameters.get("expired")
        self.notice = EXPIRED_NOTICE if expired else ""

    @rx.event
    async def submit(self, form: dict):
        """Check the credentials (in a thread), then hand the new session to the browser."""
        if self.busy:
            return
        self.busy, self.error = True, ""
        yield
        services = get_services()
        outcome = await run_password_flow(
            services.settings,
            flows.sign_in_with_password,
            services,
            email=text_field(form, "email"),
            password=text_field(form, "password"),
            ip=self.router.session.client_ip or "unknown",
            user_agent=self.router.headers.user_agent,
            when_busy=Failure(Code.BUSY),
        )
        if not outcome.ok:
            self.busy, self.error = False, explain(outcome)
            return
        signed_in = outcome.value
        session = await self.get_state(SessionState)
        yield await session._after_first_factor(signed_in, remember=bool(form.get("remember")))


def login_page() -> rx.Component:
    """The sign-in page: the wallet first (design 000), then email and password."""
    return page_card(
        rx.cond(
            LoginState.notice != "",
            rx.callout(LoginState.notice, icon="info", color_scheme="blue", role="status", width="100%"),
        ),
        wallet_panel(),
        rx.text(
            "No wallet yet? ",
            rx.link("Find one on ethereum.org", href=GET_A_WALLET_URL, is_external=True),
            size="2",
        ),
        rx.hstack(
            rx.separator(size="4"),
            rx.text("or with email", size="2", color_scheme="gray", white_space="nowrap"),
            rx.separator(size="4"),
            align="center",
            width="100%",
        ),
        rx.form(
            rx.vstack(
                form_error(LoginState.error),
                labelled_input("Email", "email", type="email", auto_complete="username", required=True),
                password_input(
                    "Password",
                    "password",
                    shown=LoginState.show_password,
                    toggle=LoginState.toggle_password,
                    autocomplete="current-password",
                ),
                rx.el.label(
                    rx.hstack(rx.checkbox(name="remember", id="remember"), rx.text(remember_label(get_settings()), size="2")),
                    html_for="remember",
                ),
                submit_button("Sign in", LoginState.busy),
                spacing="4",
                width="100%",
            ),
            on_submit=LoginState.submit,
            width="100%",
        ),
        rx.text("New here? ", rx.link("Create an account", href=routes.REGISTER), size="2"),
        heading="Sign in",
    )


PAGE = Page(
    route=routes.LOGIN,
    title="Sign in · Fuzzy Dice",
    access="public",
    component=login_page,
    on_load=(LoginState.on_load, WalletSignInState.on_load),
    states=(LoginState,),
)
