"""`/launch`: start a play session (network, length, spending limit), see it run with the time left, end it.

The session lives in the database (`fuzzydice.play.sessions`): a reload, or another tab,
shows the one running. The time left counts down in the browser from what the server
says is left (`fuzzydice.ui.countdown`), and the page asks the server again when it
reaches zero, every minute, and when the tab comes back into view; the server decides
whether the session still runs. The end event takes no id: it ends the session this
tab was shown, and the core ends only the signed-in account's own sessions.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import reflex as rx

from fuzzydice import audit
from fuzzydice.outcome import Code
from fuzzydice.play.inputs import decimal_text
from fuzzydice.play.sessions import ENDED_BY_USER, EXPIRED, PlaySession, end_play, play_history, start_play
from fuzzydice.services import get_services
from fuzzydice.settings import Settings, get_settings
from fuzzydice.ui import countdown, routes
from fuzzydice.ui.app_shell import app_shell, shell_card
from fuzzydice.ui.components import field_error, form_error, submit_button
from fuzzydice.ui.event_payloads import text_field
from fuzzydice.ui.messages import explain, field_messages
from fuzzydice.ui.page_spec import Page
from fuzzydice.ui.session_state import SessionState, format_time

PAST_SHOWN = 5
"""Ended sessions listed under "Past sessions", newest first."""
RESYNC = timedelta(minutes=1)
"""How often a tab showing a running session asks the server whether it still runs."""
TIME_LEFT_ID = "play-time-left"
NOT_ENFORCED = "Recorded and shown with the session; it is not enforced on chain."
ENDED_WORDS = {ENDED_BY_USER: "Ended by you", EXPIRED: "Time up"}
ENDED_NOTICE = "Your play session has ended."
TIME_UP_NOTICE = "Time is up: your play session has ended."


def _minutes(minutes: int) -> str:
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _clock(moment: datetime) -> str:
    return moment.strftime("%H:%M UTC")


def _past_row(play: PlaySession, settings: Settings) -> dict[str, str]:
    """An ended session as the past-sessions list shows it."""
    return {
        "length": _minutes(play.minutes),
        "network": settings.network_name(play.chain_id),
        "limit": f"{decimal_text(play.spending_limit)} {play.symbol}",
        "started": format_time(play.started_at),
        "ended": ENDED_WORDS.get(play.end_reason or "", "Ended"),
    }


class LaunchState(rx.State):
    """The launch form, the running session and the past ones of the signed-in account."""

    chain_choice: str = ""
    """The chosen network's chain id, as the radio cards give it."""
    symbol: str = "ETH"
    """The chosen network's native coin (the spending limit's unit)."""
    busy: bool = False
    """A start is under way."""
    ending: bool = False
    error: str = ""
    notice: str = ""
    chain_error: str = ""
    minutes_error: str = ""
    limit_error: str = ""

    running: bool = False
    play_network: str = ""
    play_length: str = ""
    play_limit: str = ""
    play_started: str = ""
    play_ends: str = ""
    time_left: str = ""
    """The time left when the server last looked (the browser counts it down from there)."""
    past: list[dict[str, str]] = []
    _play_id: int | None = None
    """The running session this tab shows (the one "End session" ends)."""
    _ends_at: datetime | None = None
    """When that session ends, by the server's clock (the countdown starts from it)."""

    async def _ids(self) -> tuple[int | None, int | None]:
        session = await self.get_state(SessionState)
        return session._user_id, session._session_id

    def _origin(self, session_id: int | None) -> audit.Origin:
        return audit.Origin(
            session_id=session_id,
            ip=self.router.session.client_ip or None,
            user_agent=self.router.headers.user_agent or None,
        )

    def _clear_messages(self) -> None:
        self.error = self.notice = self.chain_error = self.minutes_error = self.limit_error = ""

    async def _refresh(self) -> list[PlaySession]:
        """Read the account's sessions from the server and show them; returns them (newest first)."""
        user_id, _ = await self._ids()
        if user_id is None:
            return []
        services = get_services()
        history = await asyncio.to_thread(play_history, services, user_id, PAST_SHOWN + 1)
        current = history[0] if history and history[0].running else None
        self._show(current, services.clock.now(), services.settings)
        self.past = [_past_row(play, services.settings) for play in history if not play.running][:PAST_SHOWN]
        return history

    def _show(self, play: PlaySession | None, now: datetime, settings: Settings) -> None:
        self.running = play is not None
        self._play_id = play.id if play is not None else None
        self._ends_at = play.ends_at if play is not None else None
        if play is None:
            self.time_left = ""
            return
        self.play_network = settings.network_name(play.chain_id)
        self.play_length = _minutes(play.minutes)
        self.play_limit = f"{decimal_text(play.spending_limit)} {play.symbol}"
        self.play_started = format_time(play.started_at)
        self.play_ends = _clock(play.ends_at)
        self.time_left = countdown.clock_text(play.time_left(now))

    def _countdown(self) -> rx.event.EventSpec:
        """Count the running session down in the browser from what the server says is left now."""
        left = timedelta(0)
        if self._ends_at is not None:
            left = max(self._ends_at - get_services().clock.now(), timedelta(0))
        return rx.call_script(
            countdown.countdown_script(TIME_LEFT_ID, left, resync_ms=int(RESYNC.total_seconds() * 1000)),
            callback=LaunchState.countdown_done,
        )

    @rx.event
    async def on_load(self):
        """Choose the first network; show the running session (counting down) and the past ones."""
        self._clear_messages()
        self.busy = self.ending = False
        networks = get_services().settings.active_networks
        chosen = next((n for n in networks if str(n.chain_id) == self.chain_choice), networks[0] if networks else None)
        self.chain_choice = str(chosen.chain_id) if chosen else ""
        self.symbol = chosen.native_symbol if chosen else "ETH"
        await self._refresh()
        return [SessionState.watch_session, *([self._countdown()] if self.running else [])]

    @rx.event
    def choose_network(self, value: str):
        """A network card was chosen: its coin becomes the spending limit's unit."""
        network = next((n for n in get_services().settings.active_networks if str(n.chain_id) == value), None)
        if network is not None:
            self.chain_choice, self.symbol, self.chain_error = value, network.native_symbol, ""

    @rx.event
    async def start(self, form: dict):
        """Start a session with the form's choices (once: a second submit while one starts or runs is ignored)."""
        user_id, session_id = await self._ids()
        if user_id is None or self.busy or self.running:
            return
        self.busy = True
        self._clear_messages()
        yield
        services = get_services()
        outcome = await asyncio.to_thread(
            start_play,
            services,
            user_id,
            text_field(form, "chain_id"),
            text_field(form, "minutes"),
            text_field(form, "spending_limit"),
            origin=self._origin(session_id),
        )
        self.busy = False
        if not outcome.ok:
            fields = field_messages(outcome)
            self.chain_error = fields.get("chain_id", "")
            self.minutes_error = fields.get("minutes", "")
            self.limit_error = fields.get("spending_limit", "")
            if outcome.code != Code.INVALID_INPUT or not fields:
                self.error = explain(outcome)
            if outcome.code == Code.PLAY_RUNNING:  # started elsewhere (another tab): show that one
                await self._refresh()
                if self.running:
                    yield self._countdown()
            return
        await self._refresh()
        if self.running:
            yield self._countdown()

    @rx.event
    async def end_session(self):
        """End the running session this tab shows (ignored while ending)."""
        user_id, session_id = await self._ids()
        if user_id is None or self.ending or self._play_id is None:
            return
        self.ending = True
        self._clear_messages()
        yield
        outcome = await asyncio.to_thread(
            end_play, get_services(), user_id, self._play_id, origin=self._origin(session_id)
        )
        self.ending = False
        if not outcome.ok:
            self.error = explain(outcome)
        else:
            self.notice = ENDED_NOTICE if outcome.value.end_reason == ENDED_BY_USER else TIME_UP_NOTICE
        await self._refresh()
        if self.running:
            yield self._countdown()

    @rx.event
    async def countdown_done(self, reason: str):
        """The browser's countdown reached zero, or it is time to check: ask the server whether the session runs."""
        shown = self._play_id
        if reason not in countdown.REASONS or shown is None:
            return
        history = await self._refresh()
        if self.running:
            return self._countdown()
        ended = next((play for play in history if play.id == shown), None)
        if ended is not None:
            self.notice = TIME_UP_NOTICE if ended.end_reason == EXPIRED else ENDED_NOTICE


# --- the page ------------------------------------------------------------------------------------


def _choice_field(label: str, field_id: str, choices: rx.Component, error: rx.Var) -> rx.Component:
    """A labelled group of radio cards (`aria_labelledby` the `<field_id>-label`) with its field error under it."""
    return rx.vstack(
        rx.text(label, id=f"{field_id}-label", weight="medium", size="2", as_="div"),
        choices,
        field_error(error, field_id),
        spacing="1",
        width="100%",
        align="stretch",
    )


def _network_field(settings: Settings) -> rx.Component:
    items = [
        rx.radio_cards.item(
            rx.vstack(
                rx.text(network.name, weight="bold", size="2"),
                rx.text(f"{network.layer} · {network.native_symbol}", size="1", color_scheme="gray"),
                spacing="0",
                align="start",
                width="100%",
            ),
            value=str(network.chain_id),
        )
        for network in settings.active_networks
    ]
    return _choice_field(
        "Network",
        "chain_id",
        rx.radio_cards.root(
            *items,
            name="chain_id",
            value=LaunchState.chain_choice,
            on_value_change=LaunchState.choose_network,
            columns=rx.breakpoints(initial="1", sm="2"),
            aria_labelledby="chain_id-label",
            width="100%",
        ),
        LaunchState.chain_error,
    )


def _length_field(settings: Settings) -> rx.Component:
    lengths = settings.play_lengths
    return _choice_field(
        "Length",
        "minutes",
        rx.radio_cards.root(
            *(
                rx.radio_cards.item(
                    rx.vstack(rx.text(str(m), weight="bold", size="3"), rx.text("minutes", size="1"), spacing="0", align="center"),
                    value=str(m),
                )
                for m in lengths
            ),
            name="minutes",
            default_value=str(lengths[0]),
            columns=str(min(len(lengths), 3)),
            aria_labelledby="minutes-label",
            width="100%",
        ),
        LaunchState.minutes_error,
    )


def _limit_field() -> rx.Component:
    return rx.vstack(
        rx.el.label("Spending limit", html_for="spending_limit", style={"fontWeight": "500", "fontSize": "0.9rem"}),
        rx.input(
            rx.input.slot(rx.text(LaunchState.symbol, size="2"), side="right"),
            id="spending_limit",
            name="spending_limit",
            input_mode="decimal",
            auto_complete="off",
            placeholder="0.1",
            size="3",
            width="100%",
            aria_describedby="spending_limit-hint",
        ),
        rx.text(
            "In ", LaunchState.symbol, ", the network's own coin. ", NOT_ENFORCED,
            id="spending_limit-hint", size="1", color_scheme="gray",
        ),
        field_error(LaunchState.limit_error, "spending_limit"),
        spacing="1",
        width="100%",
        align="stretch",
    )


def _launch_card() -> rx.Component:
    settings = get_settings()
    if not settings.active_networks:
        return shell_card(
            rx.text("No network is set up on this server yet, so a play session cannot start."),
            heading="Start a play session",
        )
    return shell_card(
        rx.form(
            rx.vstack(
                _network_field(settings),
                _length_field(settings),
                _limit_field(),
                submit_button("Start session", LaunchState.busy),
                spacing="4",
                width="100%",
            ),
            on_submit=LaunchState.start,
            width="100%",
        ),
        heading="Start a play session",
        id="launch-form",
    )


def _fact(label: str, *value: rx.Component | rx.Var | str) -> rx.Component:
    return rx.data_list.item(rx.data_list.label(label), rx.data_list.value(*value))


def _running_card() -> rx.Component:
    return shell_card(
        rx.data_list.root(
            _fact(
                "Time left",
                rx.text(LaunchState.time_left, id=TIME_LEFT_ID, role="timer", weight="bold", size="5"),
            ),
            _fact("Network", LaunchState.play_network),
            _fact(
                "Spending limit",
                rx.vstack(
                    rx.text(LaunchState.play_limit, id="play-limit"),
                    rx.text(NOT_ENFORCED, size="1", color_scheme="gray"),
                    spacing="0",
                ),
            ),
            _fact("Length", LaunchState.play_length),
            _fact("Started", LaunchState.play_started),
            _fact("Ends", LaunchState.play_ends),
            orientation=rx.breakpoints(initial="vertical", sm="horizontal"),
            size="2",
        ),
        rx.button(
            "End session",
            on_click=LaunchState.end_session,
            loading=LaunchState.ending,
            disabled=LaunchState.ending,
            color_scheme="red",
            variant="soft",
            size="3",
        ),
        heading="Session running",
        id="running-session",
    )


def _past_card() -> rx.Component:
    def row(play: rx.Var[dict[str, str]]) -> rx.Component:
        return rx.el.li(
            rx.text(rx.text.strong(play["length"]), " on ", play["network"], size="2"),
            rx.text(
                "Limit ", play["limit"], " · started ", play["started"], " · ", play["ended"],
                size="1", color_scheme="gray",
            ),
            style={"padding": "0.5rem 0", "borderBottom": "1px solid var(--gray-a4)", "overflowWrap": "anywhere"},
        )

    return shell_card(
        rx.cond(
            LaunchState.past.length() > 0,
            rx.el.ul(
                rx.foreach(LaunchState.past, row),
                aria_label="Past sessions",
                style={"listStyle": "none", "margin": "0", "padding": "0", "width": "100%"},
            ),
            rx.text("No past sessions yet.", size="2", color_scheme="gray"),
        ),
        heading="Past sessions",
    )


def launch_page() -> rx.Component:
    """The launch page: the form, or the running session; then the past sessions."""
    return app_shell(
        form_error(LaunchState.error),
        rx.cond(
            LaunchState.notice != "",
            rx.callout(LaunchState.notice, icon="info", role="status", width="100%", id="launch-notice"),
        ),
        rx.cond(LaunchState.running, _running_card(), _launch_card()),
        _past_card(),
        heading="Launch",
        current=routes.LAUNCH,
        width="40rem",
    )


PAGE = Page(
    route=routes.LAUNCH,
    title="Launch · Fuzzy Dice",
    access="full",
    component=launch_page,
    on_load=(LaunchState.on_load,),
    states=(LaunchState,),
)
