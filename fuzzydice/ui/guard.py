"""The guard: one Reflex middleware that re-validates the session before every event.

It reads the session cookie from the websocket handshake, looks the session up in
the database and fills the shared SessionState. When the page or the state the
event targets is not for this session (see `routes.where_to`), it wipes the
tab's per-user state and moves the browser with a full page load. Hydration is an
event too, so a dead session's data is wiped before the snapshot is sent.
"""

from __future__ import annotations

import asyncio

import reflex as rx
from reflex.event import Event
from reflex.state import BaseState, StateUpdate

from fuzzydice.api.cookies import session_token_from_header
from fuzzydice.auth import flows
from fuzzydice.services import get_services
from fuzzydice.ui import browser_scripts, routes
from fuzzydice.ui.session_state import SessionState


class SessionGuard(rx.Middleware):
    """Enforces route classes for every page and every protected state."""

    def __init__(self) -> None:
        self._protected: dict[str, tuple[type[BaseState], routes.RouteClass]] = {}

    def protect(self, state_cls: type[BaseState], route_class: routes.RouteClass) -> None:
        """Require `route_class`'s level for every event of `state_cls`, from any page."""
        self._protected[state_cls.get_full_name()] = (state_cls, route_class)

    def _state_level(self, event_name: str) -> int:
        entry = self._protected.get(event_name.rpartition(".")[0])
        return routes.required_level(entry[1]) if entry else 0

    async def preprocess(self, app, state: BaseState, event: Event) -> StateUpdate | None:
        """Validate the session for this event; refuse it with a redirect when it does not belong here."""
        root = state._get_root_state()
        services = get_services()
        path = root.router.url.path
        token = session_token_from_header(services.settings, root.router.headers.cookie)
        info = await asyncio.to_thread(flows.current_session, services, token) if token else None
        session_state = await root.get_state(SessionState)
        session_state._apply(info)
        level = info.factor_level if info else 0
        destination = routes.where_to(info, path)
        if destination is None and level >= self._state_level(event.name):
            return None
        if info is None:
            expired = token is not None and await asyncio.to_thread(flows.pending_session_expired, services, token)
            destination = routes.where_to(None, path, pending_expired=expired) or routes.LOGIN
        elif destination is None:  # a handler of a page this session may not use, sent from elsewhere
            destination = routes.where_to(info, routes.USER_HOME) or routes.USER_HOME
        for state_cls, _ in self._protected.values():
            (await root.get_state(state_cls)).reset()
        script = browser_scripts.hard_redirect_script(destination)
        return StateUpdate(events=Event.from_event_type(rx.call_script(script)))
