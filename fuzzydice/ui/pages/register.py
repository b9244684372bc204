"""`/register`: name, email, password, optional phone."""

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
from fuzzydice.ui.messages import field_messages, password_hint, say
from fuzzydice.settings import get_settings
from fuzzydice.ui.page_spec import Page
from fuzzydice.ui.session_state import SessionState


class RegisterState(AuthFormMixin, rx.State):
    """The registration form and its field errors."""

    name_error: str = ""
    email_error: str = ""
    password_error: str = ""
    phone_error: str = ""
    error: str = ""

    @rx.event
    async def submit(self, form: dict):
        """Create the account (hashing in a thread), then sign the new user in."""
        if self.busy:
            return
        self.busy = True
        self.name_error = self.email_error = self.password_error = self.phone_error = self.error = ""
        yield
        services = get_services()
        outcome = await run_password_flow(
            services.settings,
            flows.register,
            services,
            name=text_field(form, "name"),
            email=text_field(form, "email"),
            password=text_field(form, "password"),
            phone=text_field(form, "phone"),
            ip=self.router.session.client_ip or "unknown",
            user_agent=self.router.headers.user_agent,
            when_busy=Failure(Code.BUSY),
        )
        if not outcome.ok:
            self.busy = False
            errors = field_messages(outcome)
            self.name_error = errors.get("name", "")
            self.email_error = errors.get("email", "")
            self.password_error = errors.get("password", "")
            self.phone_error = errors.get("phone", "")
            self.error = say(outcome, services.settings, now=services.clock.now())
            return
        session = await self.get_state(SessionState)
        yield await session._after_first_factor(outcome.value, remember=False)


def register_page() -> rx.Component:
    """The registration page."""
    return page_card(
        rx.form(
            rx.vstack(
                form_error(RegisterState.error),
                labelled_input("Name", "name", auto_complete="name", required=True, error=RegisterState.name_error),
                labelled_input(
                    "Email", "email", type="email", auto_complete="username", required=True, error=RegisterState.email_error
                ),
                password_input(
                    "Password",
                    "password",
                    shown=RegisterState.show_password,
                    toggle=RegisterState.toggle_password,
                    autocomplete="new-password",
                    error=RegisterState.password_error,
                    hint=password_hint(get_settings()),
                ),
                labelled_input(
                    "Phone (optional)",
                    "phone",
                    type="tel",
                    auto_complete="tel",
                    placeholder="+44 20 7946 0958",
                    error=RegisterState.phone_error,
                    hint="International format. Stored unverified until you confirm it.",
                ),
                submit_button("Create account", RegisterState.busy),
                spacing="4",
                width="100%",
            ),
            on_submit=RegisterState.submit,
            width="100%",
        ),
        rx.text("Already have an account? ", rx.link("Sign in", href=routes.LOGIN), size="2"),
        heading="Create account",
    )


PAGE = Page(
    route=routes.REGISTER,
    title="Create account · Fuzzy Dice",
    access="public",
    component=register_page,
    on_load=(RegisterState.on_load,),
    states=(RegisterState,),
)
