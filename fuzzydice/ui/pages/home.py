"""`/user/home`: who is signed in, the last sign-in, backup codes left, security alerts, sign-out."""

from __future__ import annotations

import asyncio

import reflex as rx

from fuzzydice import audit
from fuzzydice.mfa import flows as mfa_flows
from fuzzydice.services import get_services
from fuzzydice.ui import routes
from fuzzydice.ui.app_shell import app_shell, shell_card
from fuzzydice.ui.balances import BalancesState, balances_card
from fuzzydice.ui.page_spec import Page
from fuzzydice.ui.session_state import SessionState


class HomeState(rx.State):
    """The home page (who is signed in comes from the shared session state)."""

    backup_codes_left: int = 0
    alerts: list[str] = []

    @rx.event
    async def on_load(self):
        """Load this user's numbers and alerts; follow the session so sign-out elsewhere reaches this tab."""
        user_id = (await self.get_state(SessionState))._user_id
        if user_id is not None:
            services = get_services()
            self.backup_codes_left = await asyncio.to_thread(mfa_flows.remaining_backup_codes, services, user_id)
            self.alerts = [alert_text(alert) for alert in await asyncio.to_thread(audit.alerts, services, user_id)]
        return SessionState.watch_session

    @rx.event
    async def dismiss_alerts(self):
        """The owner has read the alerts."""
        user_id = (await self.get_state(SessionState))._user_id
        if user_id is not None:
            await asyncio.to_thread(audit.dismiss_alerts, get_services(), user_id)
        self.alerts = []


def alert_text(alert: audit.Alert) -> str:
    """An alert in words."""
    where = f" from {alert.ip}" if alert.ip else ""
    when = alert.created_at.strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"On {when}, someone signed in with your password{where} and then entered wrong codes until the "
        "second step locked. If that was not you, someone else knows your password."
    )


def home_page() -> rx.Component:
    """The signed-in home page."""
    return app_shell(
        shell_card(
            rx.cond(
                HomeState.alerts.length() > 0,
                rx.callout.root(
                    rx.vstack(
                        rx.foreach(HomeState.alerts, lambda text: rx.text(text, size="2")),
                        rx.button("Dismiss", on_click=HomeState.dismiss_alerts, variant="soft", size="1"),
                        spacing="2",
                    ),
                    color_scheme="amber",
                    role="alert",
                    id="security-alerts",
                    width="100%",
                ),
            ),
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
        ),  # Security and Sign out are in the shell's header
        balances_card(),
        heading="Home",
        current=routes.USER_HOME,
    )


PAGE = Page(
    route=routes.USER_HOME,
    title="Home · Fuzzy Dice",
    access="full",
    component=home_page,
    on_load=(HomeState.on_load, BalancesState.refresh),
    states=(HomeState,),
)
