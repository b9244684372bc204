"""The guard: one Reflex middleware that re-validates the session before every event.

It reads the session cookie from the websocket handshake, looks the session up in
the database and fills the shared SessionState. When the page or the state the
event targets is not for this session (see `routes.where_to`), it wipes the
tab's per-user state and moves the browser with a full page load. Hydration is an
event too, so a dead session's data is wiped before the snapshot is sent.

The tab's states remember which session their data belongs to. Whenever the
session behind the cookie is another one (signed out, expired, another user, a
new session after a privilege change), every state of the app in that tab is
reset before the event runs: public pages hold per-attempt data too.
"""

from __future__ import annotations

import asyncio

import reflex as rx
from reflex.event import Event
from reflex.state import BaseState, StateUpdate

from fuzzydice.api.cookies import session_token_from_header
from fuzzydice.auth import flows
from fuzzydice.auth.tokens import token_hash
from fuzzydice.services import get_services
from fuzzydice.ui import browser_scripts, event_payloads, routes
from fuzzydice.ui.app_states import app_state_classes
from fuzzydice.ui.session_state import SessionState


async def wipe_tab(root: BaseState) -> None:
    """Reset every state of the app in this tab to its defaults, backend vars included.

    `get_state` also loads the states not in memory yet (a Redis state manager loads
    substates one by one), so none keeps an older session's values for a later event.
    The session watcher's flag survives (see `SessionState._wipe`).
    """
    for state_cls in app_state_classes(type(root)):
        state = await root.get_state(state_cls)
        if isinstance(state, SessionState):
            state._wipe()
        else:
            state.reset()


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
        if (refused := await event_payloads.refusal(root, event)) is not None:
            return refused  # a payload that does not fit the handler never reaches it
        services = get_services()
        path = root.router.url.path
        token = session_token_from_header(services.settings, root.router.headers.cookie)
        info = await asyncio.to_thread(flows.current_session, services, token) if token else None
        session_state = await root.get_state(SessionState)
        # The token's digest, not the row id: SQLite hands a deleted row's id to the next session.
        owner = token_hash(token) if info and token else ""
        if session_state._data_owner != owner:
            await wipe_tab(root)
            session_state._data_owner = owner
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
