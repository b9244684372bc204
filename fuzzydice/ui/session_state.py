"""The shared session state: who is signed in, read from the HttpOnly cookie by the guard.

Access is decided only by backend vars (`_user_id`, `_level`) that the guard sets
from the session table before every event; the public vars are for display.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import reflex as rx

from fuzzydice.api.cookies import session_token_from_header
from fuzzydice import journey
from fuzzydice.auth import flows
from fuzzydice.auth.sessions import FIRST_FACTOR, SessionInfo
from fuzzydice.services import get_services
from fuzzydice.ui import browser_scripts, routes
from fuzzydice.ui.page_spec import StateAccess

# Set by the app module: tells whether a client token still has a live socket.
is_connected: Callable[[str], bool] = lambda _token: True


def format_time(value) -> str:
    """A timestamp for people: `2026-11-22 23:40 UTC`."""
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""


class SessionState(rx.State):
    """Who this tab belongs to; filled by the guard from the session cookie."""

    _user_id: int | None = None
    _session_id: int | None = None
    _level: int = 0
    _remember: bool = False
    _step: journey.Step | None = None
    """Where this session is in the sign-in journey, as the guard last saw it (None: no session)."""
    _factors: frozenset[str] = frozenset()
    """The kinds of second factor the account can give now (a full session's step-up offers these)."""
    _watching: bool = False
    # The session whose per-user data this tab's states may hold: the digest of its cookie
    # token ("" for none). Only the guard sets it, right after wiping every state of the tab.
    _data_owner: str = ""

    # For display, and only to a full session: a first factor alone learns nothing of the account.
    user_name: str = ""
    user_email: str = ""
    last_sign_in: str = ""

    def _apply(self, info: SessionInfo | None) -> None:
        if info is None:
            if self._user_id is not None or self.user_name:
                self._wipe()
            return
        if self._user_id not in (None, info.user_id):
            self._wipe()
        self._user_id, self._session_id, self._level = info.user_id, info.session_id, info.factor_level
        self._remember, self._factors, self._step = info.remember, info.factors, journey.step_of(info)
        full = info.is_full
        shown = {
            "user_name": info.user_name if full else "",
            "user_email": (info.user_email or "") if full else "",
            "last_sign_in": format_time(info.last_sign_in_at) if full else "",
        }
        for name, value in shown.items():
            if getattr(self, name) != value:  # unchanged values stay out of the delta
                setattr(self, name, value)

    def _wipe(self) -> None:
        """Forget the user; keep the watcher's flag and `_data_owner` (the guard wipes the other states)."""
        kept = self._watching, self._data_owner
        self.reset()
        self._watching, self._data_owner = kept

    def _session_token(self) -> str | None:
        return session_token_from_header(get_services().settings, self.router.headers.cookie)

    def _api_base(self) -> str:
        return browser_scripts.api_base(self.router.headers.origin, self.router.headers.host)

    async def _begin_session(
        self,
        *,
        user_id: int,
        factor_level: int,
        remember: bool,
        next_path: str,
        first_factor: str | None = None,
        second_factor: str | None = None,
    ) -> rx.event.EventSpec:
        """Issue a claim ticket and return the script that redeems it (a full page load follows)."""
        services = get_services()
        issued = await asyncio.to_thread(
            flows.start_session_handoff,
            services,
            user_id=user_id,
            factor_level=factor_level,
            remember=remember,
            next_path=next_path,
            tab=self.router.session.client_token,
            replaces_token=self._session_token(),
            first_factor=first_factor,
            second_factor=second_factor,
        )
        return rx.call_script(
            browser_scripts.handoff_script(
                services.settings, base=self._api_base(), ticket=issued.ticket, bind=issued.bind, tag=issued.tag
            )
        )

    async def _after_first_factor(self, signed_in, *, remember: bool):
        """Hand over the session a first factor earned (`flows.SignedIn`, `wallet.flows.WalletSignIn`);
        the tab goes to the journey's step, keeping where it was going."""
        requested = self.router.url.query_parameters.get("next")
        return await self._begin_session(
            user_id=signed_in.user_id,
            factor_level=FIRST_FACTOR,
            first_factor=signed_in.first_factor,
            remember=remember,
            next_path=routes.second_step_after_password(signed_in.step, requested),
        )

    @rx.event
    async def sign_out(self):
        """End this browser's session everywhere at once, then expire the cookie."""
        await asyncio.to_thread(
            flows.sign_out,
            get_services(),
            self._session_token(),
            tab=self.router.session.client_token,
            ip=self.router.session.client_ip,
            user_agent=self.router.headers.user_agent,
        )
        self._wipe()
        return rx.call_script(browser_scripts.logout_script(self._api_base()))

    @rx.event(background=True)
    async def watch_session(self):
        """Follow other tabs: re-check the session every few seconds; reload the page when it is gone."""
        async with self:
            if self._watching or self._user_id is None:
                return
            self._watching = True
        services = get_services()
        token = self._session_token()
        client_token = self.router.session.client_token
        interval = services.settings.tab_check_interval.total_seconds()
        max_checks = int(services.settings.remember_absolute.total_seconds() / interval) + 1
        try:
            for _ in range(max_checks):
                await asyncio.sleep(interval)
                if not is_connected(client_token):
                    return
                info = await asyncio.to_thread(flows.current_session, services, token, touch=False)
                if info is None:
                    # The session this tab was opened with is gone: signed out, or replaced by a
                    # new one (second step done in another tab). A full reload picks up whatever
                    # cookie the browser holds now, and the guard sends the tab where it belongs.
                    async with self:
                        self._wipe()
                    yield rx.call_script(browser_scripts.reload_script())
                    return
        finally:
            async with self:
                self._watching = False


# Used on every page with a session: the sign-out link of the second-step pages and the
# session watcher their on_load starts must work for a first-factor session, so the state
# needs `pending`, not `full`. Sign-out itself needs no session: it ends only this browser's
# own session, if there is one (the guard's check of the page still applies).
ACCESS = StateAccess(SessionState, "pending", events={"sign_out": "public"})
