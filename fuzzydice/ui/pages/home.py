"""`/user/home`: the signed-in dashboard.

Who is signed in, the last sign-in, backup codes left and security alerts; then the
balances of every linked wallet on every chain (`fuzzydice.ui.balances`), the account's
authorizations (second factors, live sessions, ERC-20 allowances its wallets granted),
recent activity and play sessions. Chain reads (balances, allowances, activity) run in
background events, each with its own spinner, so the page answers meanwhile; the database
reads run in `on_load`.
"""

from __future__ import annotations

import asyncio
import logging

import reflex as rx
from reflex_components_core.el.elements.inline import A as PlainAnchor

from fuzzydice import audit
from fuzzydice.auth import identities
from fuzzydice.auth.authorizations import authorizations
from fuzzydice.chain.activity import read_activity
from fuzzydice.chain.allowances import read_allowances
from fuzzydice.mfa import flows as mfa_flows
from fuzzydice.play import sessions as plays
from fuzzydice.services import Services, get_services
from fuzzydice.ui import routes
from fuzzydice.ui.app_shell import app_shell, shell_card
from fuzzydice.ui.background_reads import begin_read, drop_read, still_current
from fuzzydice.ui.balances import BalancesState, balances_card
from fuzzydice.ui.dashboard_rows import (
    ActivityRow,
    AllowanceRow,
    PlayRow,
    activity_problems,
    activity_rows,
    allowance_rows,
    chain_errors,
    factor_lines,
    no_activity_text,
    past_play_rows,
    play_row,
    sessions_text,
    utc_time,
)
from fuzzydice.ui.page_spec import Page
from fuzzydice.ui.session_state import SessionState

logger = logging.getLogger(__name__)

PAST_PLAYS_SHOWN = 5
READ_FAILED = "This could not be read just now. Please try again in a moment."


def _plays(services: Services, user_id: int) -> tuple[list[PlayRow], list[PlayRow]]:
    """(the running session, if any, as a one-row list; the last few that ended)."""
    now = services.clock.now()
    name = services.settings.network_name
    running = plays.current_play(services, user_id)
    history = plays.play_history(services, user_id, limit=PAST_PLAYS_SHOWN + 1)
    return ([play_row(running, now, name)] if running else []), past_play_rows(history, now, name, PAST_PLAYS_SHOWN)


class HomeState(rx.State):
    """The home page (who is signed in and the balances come from shared states)."""

    backup_codes_left: int = 0
    alerts: list[str] = []
    factors: list[str] = []
    """The account's second factors in words."""
    sessions: str = ""
    """How many sessions are signed in, in words."""
    running_play: list[PlayRow] = []
    """The running play session (none or one)."""
    past_plays: list[PlayRow] = []

    has_wallets: bool = True
    allowances: list[AllowanceRow] = []
    allowance_errors: list[str] = []
    allowances_loading: bool = False
    allowances_loaded: bool = False
    allowances_updated: str = ""
    _allowances_run: str = ""

    activity: list[ActivityRow] = []
    activity_problems: list[str] = []
    activity_loading: bool = False
    activity_loaded: bool = False
    activity_updated: str = ""
    no_activity: str = ""
    """What an empty list says ("No activity in the last 10,000 blocks.")."""
    _activity_run: str = ""

    @rx.event
    async def on_load(self):
        """Load this user's numbers, alerts, authorizations and play sessions; follow the session."""
        user_id = (await self.get_state(SessionState))._user_id
        if user_id is not None:
            services = get_services()
            self.backup_codes_left = await asyncio.to_thread(mfa_flows.remaining_backup_codes, services, user_id)
            self.alerts = [alert_text(alert) for alert in await asyncio.to_thread(audit.alerts, services, user_id)]
            found = await asyncio.to_thread(authorizations, services, user_id)
            self.factors = factor_lines(found.factor_kinds, found.backup_codes_left)
            self.sessions = sessions_text(found.signed_in_sessions, found.pending_sessions)
            self.running_play, self.past_plays = await asyncio.to_thread(_plays, services, user_id)
            self.no_activity = no_activity_text(services.settings.activity_blocks)
        return SessionState.watch_session

    @rx.event
    async def dismiss_alerts(self):
        """The owner has read the alerts."""
        user_id = (await self.get_state(SessionState))._user_id
        if user_id is not None:
            await asyncio.to_thread(audit.dismiss_alerts, get_services(), user_id)
        self.alerts = []

    @rx.event(background=True)
    async def load_allowances(self):
        """Read the allowances the user's wallets granted on the configured tokens (outside the state lock)."""
        services = get_services()
        async with self:
            run = await begin_read(self, "allowances_loading", "_allowances_run")
        if run is None:
            return
        rows: list[AllowanceRow] = []
        errors: list[str] = []
        wallets: list[str] = []
        try:
            wallets = await asyncio.to_thread(identities.wallet_addresses, services, run.user_id)
            if wallets:
                chains = await asyncio.to_thread(
                    read_allowances, services.chain, services.settings.active_networks, wallets, services.settings,
                    services.clock,
                )
                rows, errors = allowance_rows(chains), chain_errors(chains)
        except Exception:  # a bug or the database: words for the page, the details for the log
            logger.exception("reading allowances failed")
            errors = [READ_FAILED]
        except asyncio.CancelledError:  # the tab navigated away or disconnected
            await drop_read(self, run, "allowances_loading", "_allowances_run")
            raise
        async with self:
            if await still_current(self, run, "_allowances_run"):
                self.allowances, self.allowance_errors, self.has_wallets = rows, errors, bool(wallets)
                self.allowances_updated = f"Checked {utc_time(services.clock.now())}"
                self.allowances_loading, self.allowances_loaded = False, True

    @rx.event(background=True)
    async def load_activity(self):
        """Read the recent transfers of the user's wallets on every chain (outside the state lock)."""
        services = get_services()
        async with self:
            run = await begin_read(self, "activity_loading", "_activity_run")
        if run is None:
            return
        rows: list[ActivityRow] = []
        problems: list[str] = []
        wallets: list[str] = []
        try:
            wallets = await asyncio.to_thread(identities.wallet_addresses, services, run.user_id)
            if wallets:
                report = await asyncio.to_thread(
                    read_activity, services.chain, services.settings.active_networks, wallets, services.settings,
                    services.clock,
                )
                rows, problems = activity_rows(report), activity_problems(report)
        except Exception:  # a bug or the database: words for the page, the details for the log
            logger.exception("reading recent activity failed")
            problems = [READ_FAILED]
        except asyncio.CancelledError:  # the tab navigated away or disconnected
            await drop_read(self, run, "activity_loading", "_activity_run")
            raise
        async with self:
            if await still_current(self, run, "_activity_run"):
                self.activity, self.activity_problems, self.has_wallets = rows, problems, bool(wallets)
                self.activity_updated = f"Checked {utc_time(services.clock.now())}"
                self.activity_loading, self.activity_loaded = False, True


def alert_text(alert: audit.Alert) -> str:
    """An alert in words."""
    where = f" from {alert.ip}" if alert.ip else ""
    when = alert.created_at.strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"On {when}, someone signed in with your password{where} and then entered wrong codes until the "
        "second step locked. If that was not you, someone else knows your password."
    )


# --- components -------------------------------------------------------------------------------

LIST_STYLE = {
    "listStyle": "none", "margin": "0", "padding": "0", "display": "flex", "flexDirection": "column", "width": "100%",
}


def _external_link(*children, href, **props) -> rx.Component:
    """A link to another site (an explorer): a plain `<a>` opening a new tab (`rx.el.a` is the app's router link)."""
    return PlainAnchor.create(
        *children,
        href=href,
        target="_blank",
        rel="noopener noreferrer",
        style={"color": "var(--accent-11)", "textDecoration": "underline", "textUnderlineOffset": "0.15em"},
        **props,
    )


def _toolbar(updated, loading, on_refresh, name: str) -> rx.Component:
    """"Checked 14:02:03 UTC", a spinner while reading, and Refresh."""
    return rx.flex(
        rx.text(updated, size="1", color_scheme="gray", id=f"{name}-updated"),
        rx.flex(
            rx.cond(loading, rx.spinner(size="2", id=f"{name}-loading", aria_label=f"Loading {name}")),
            rx.button(
                rx.icon("refresh_cw", size=14),
                "Refresh",
                on_click=on_refresh,
                disabled=loading,
                variant="soft",
                size="1",
                id=f"{name}-refresh",
                aria_label=f"Refresh {name}",
            ),
            align="center",
            spacing="3",
            margin_left="auto",
        ),
        align="center",
        spacing="2",
        wrap="wrap",
        width="100%",
    )


def _problems(problems) -> rx.Component:
    return rx.foreach(
        problems,
        lambda text: rx.callout(text, icon="triangle_alert", color_scheme="red", size="1", role="alert"),
    )


def _account_card() -> rx.Component:
    return shell_card(
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
            style={"overflowWrap": "anywhere"},
        ),
        rx.text(
            "Last sign-in: ",
            rx.cond(SessionState.last_sign_in != "", SessionState.last_sign_in, "this is your first sign-in"),
            id="last-sign-in",
        ),
        rx.text("Backup codes left: ", HomeState.backup_codes_left, id="backup-codes-left"),
    )  # Security and Sign out are in the shell's header


def _allowance_row(row: AllowanceRow) -> rx.Component:
    spender = rx.cond(
        row.spender_link != "",
        _external_link(rx.code(row.spender_short, variant="ghost"), href=row.spender_link, title=row.spender),
        rx.code(row.spender_short, variant="ghost", title=row.spender),
    )
    return rx.el.li(
        rx.flex(
            rx.text.strong(row.token),
            rx.cond(
                row.unlimited,
                rx.badge("Unlimited", color_scheme="amber", variant="solid"),
                rx.text(row.amount),
            ),
            rx.text("to ", spender, size="2"),
            rx.text("on ", row.network, " from ", row.owner_short, size="1", color_scheme="gray"),
            spacing="2",
            align="center",
            wrap="wrap",
        ),
        style={"padding": "0.5rem 0", "borderBottom": "1px solid var(--gray-a4)", "minWidth": "0"},
    )


def _allowances() -> rx.Component:
    rows = rx.cond(
        HomeState.allowances.length() > 0,
        rx.el.ul(rx.foreach(HomeState.allowances, _allowance_row), aria_label="Token allowances", style=LIST_STYLE),
        rx.text(
            "None of your wallets lets anyone spend its tokens.",
            size="2",
            color_scheme="gray",
            id="no-allowances",
        ),
    )
    return rx.vstack(
        rx.heading("Token allowances", size="3", as_="h3"),
        rx.text(
            "Contracts and addresses your wallets have allowed to spend their tokens (granted in recent blocks).",
            size="2",
            color_scheme="gray",
        ),
        _toolbar(HomeState.allowances_updated, HomeState.allowances_loading, HomeState.load_allowances, "allowances"),
        _problems(HomeState.allowance_errors),
        rx.cond(
            HomeState.allowances_loaded,
            rx.cond(
                HomeState.has_wallets,
                rows,
                rx.text("Link a wallet to see what it allows.", size="2", color_scheme="gray"),
            ),
            rx.text("Reading allowances…", size="2", color_scheme="gray"),
        ),
        spacing="2",
        width="100%",
        id="allowances",
        aria_busy=HomeState.allowances_loading,
    )


def _authorizations_card() -> rx.Component:
    return shell_card(
        rx.vstack(
            rx.heading("Second factors", size="3", as_="h3"),
            rx.cond(
                HomeState.factors.length() > 0,
                rx.el.ul(
                    rx.foreach(HomeState.factors, lambda text: rx.el.li(rx.text(text, size="2"))),
                    aria_label="Second factors",
                    style={"margin": "0", "paddingLeft": "1.25rem"},
                ),
                rx.text("No second factor is set up.", size="2"),
            ),
            rx.text(HomeState.sessions, size="2", id="session-count"),
            rx.link("Manage second factors and sessions", href=routes.SECURITY, size="2", id="manage-security"),
            spacing="2",
            width="100%",
            id="factors",
        ),
        rx.separator(size="4"),
        _allowances(),
        heading="Authorizations",
        id="authorizations",
    )


def _activity_row(row: ActivityRow) -> rx.Component:
    return rx.el.li(
        rx.flex(
            rx.badge(row.direction, color_scheme=rx.cond(row.incoming, "green", "gray"), variant="soft"),
            rx.text.strong(row.amount),
            rx.text(row.counterparty, size="2", title=row.counterparty_address),
            spacing="2",
            align="center",
            wrap="wrap",
        ),
        rx.flex(
            rx.text(row.network, size="1", color_scheme="gray"),
            rx.text(row.when, size="1", color_scheme="gray"),
            rx.cond(row.link != "", rx.text(_external_link("View on explorer", href=row.link), size="1")),
            spacing="3",
            wrap="wrap",
        ),
        style={"padding": "0.5rem 0", "borderBottom": "1px solid var(--gray-a4)", "minWidth": "0"},
    )


def _activity_card() -> rx.Component:
    body = rx.cond(
        HomeState.has_wallets,
        rx.cond(
            HomeState.activity.length() > 0,
            rx.el.ul(rx.foreach(HomeState.activity, _activity_row), aria_label="Recent activity", style=LIST_STYLE),
            rx.text(HomeState.no_activity, size="2", color_scheme="gray", id="no-activity"),
        ),
        rx.text("Link a wallet to see its transfers here.", size="2", color_scheme="gray"),
    )
    return shell_card(
        _toolbar(HomeState.activity_updated, HomeState.activity_loading, HomeState.load_activity, "activity"),
        _problems(HomeState.activity_problems),
        rx.cond(
            HomeState.activity_loaded, body, rx.text("Reading recent activity…", size="2", color_scheme="gray")
        ),
        heading="Recent activity",
        id="activity",
        aria_busy=HomeState.activity_loading,
    )


def _play_line(row: PlayRow) -> rx.Component:
    return rx.el.li(
        rx.text(row.network, " · ", row.duration, " · ", row.limit, size="2"),
        rx.text(row.started, " · ", row.status, size="1", color_scheme="gray"),
        style={"padding": "0.4rem 0", "borderBottom": "1px solid var(--gray-a4)"},
    )


def _plays_card() -> rx.Component:
    running = rx.cond(
        HomeState.running_play.length() > 0,
        rx.foreach(
            HomeState.running_play,
            lambda row: rx.callout.root(
                rx.callout.icon(rx.icon("timer")),
                rx.callout.text(
                    rx.text.strong("Session running"),
                    " on ",
                    row.network,
                    ": ",
                    row.status,
                    ". ",
                    row.limit,
                    ". ",
                    rx.link("Open Launch", href=routes.LAUNCH),
                ),
                color_scheme="green",
                id="running-play",
            ),
        ),
        rx.text(
            "No play session is running. ",
            rx.link("Start one on the Launch page", href=routes.LAUNCH),
            size="2",
            id="no-running-play",
        ),
    )
    past = rx.cond(
        HomeState.past_plays.length() > 0,
        rx.vstack(
            rx.heading("Past sessions", size="3", as_="h3"),
            rx.el.ul(rx.foreach(HomeState.past_plays, _play_line), aria_label="Past play sessions", style=LIST_STYLE),
            spacing="2",
            width="100%",
        ),
    )
    return shell_card(running, past, heading="Play sessions", id="plays")


def home_page() -> rx.Component:
    """The signed-in home page."""
    return app_shell(
        _account_card(),
        balances_card(),
        _authorizations_card(),
        _activity_card(),
        _plays_card(),
        heading="Home",
        current=routes.USER_HOME,
    )


PAGE = Page(
    route=routes.USER_HOME,
    title="Home · Fuzzy Dice",
    access="full",
    component=home_page,
    on_load=(HomeState.on_load, BalancesState.refresh, HomeState.load_allowances, HomeState.load_activity),
    states=(HomeState,),
)
