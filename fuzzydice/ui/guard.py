"""The guard: one Reflex middleware that re-validates the session before every event.

It reads the session cookie from the websocket handshake, looks the session up in
the database and fills the shared SessionState. When the page or the state the
event targets is not for this session (see `routes.where_to`), it wipes the
tab's per-user state and moves the browser with a full page load. Hydration is an
event too, so a dead session's data is wiped before the snapshot is sent.

Deny by default: an event of one of the app's states needs the session level its
declaration gives it (`fuzzydice.ui.page_spec`: the page that owns the state, or its
`StateAccess`); a state that no declaration names needs a full session, and is
logged once as undeclared. Reflex's own states are left to Reflex and the page check.

The tab's states remember which session their data belongs to. Whenever the
session behind the cookie is another one (signed out, expired, another user, a
new session after a privilege change), every state of the app in that tab is
reset before the event runs: public pages hold per-attempt data too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from types import MappingProxyType

import reflex as rx
from reflex.event import Event
from reflex.state import BaseState, StateUpdate

from fuzzydice.api.cookies import session_token_from_header
from fuzzydice.auth import flows
from fuzzydice.auth.sessions import FULL
from fuzzydice.auth.tokens import token_hash
from fuzzydice.services import get_services
from fuzzydice.settings import Settings
from fuzzydice.ui import browser_scripts, event_payloads, routes
from fuzzydice.ui.app_states import app_state_classes, is_app_state
from fuzzydice.ui.page_spec import Page, StateAccess, StateRule, access_rules
from fuzzydice.ui.session_state import SessionState

logger = logging.getLogger(__name__)


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
    """Enforces route classes for every page and the declared level of every state of the app."""

    def __init__(self, rules: Mapping[str, StateRule]) -> None:
        """Guard with `rules` by state full name (see `page_spec.access_rules`)."""
        self._rules = dict(rules)
        self._undeclared: set[str] = set()  # logged once each
        self._reset_on_refusal: dict[type[BaseState], tuple[type[BaseState], ...]] = {}

    @classmethod
    def from_declarations(
        cls, pages: Iterable[Page], shared: Iterable[StateAccess], settings: Settings
    ) -> SessionGuard:
        """The guard of the declared pages and shared states, for this deployment's settings."""
        return cls(access_rules(pages, shared, settings))

    @property
    def rules(self) -> Mapping[str, StateRule]:
        """What each declared state's events need, by state full name."""
        return MappingProxyType(self._rules)

    def undeclared_states(self, root_cls: type[BaseState]) -> list[type[BaseState]]:
        """The states of the app that no declaration names (the guard treats them as `full`)."""
        return [state_cls for state_cls in app_state_classes(root_cls) if state_cls.get_full_name() not in self._rules]

    def required_level(self, event: Event) -> int:
        """The session factor level an event needs because of the state it targets (0: none)."""
        state_name, _, handler = event.name.rpartition(".")
        if (rule := self._rules.get(state_name)) is not None:
            return rule.level_of(handler)
        try:
            state_cls = event.state_cls
        except LookupError:  # not a registered state (Reflex refuses it before this point anyway)
            return FULL
        if not is_app_state(state_cls):
            return 0  # Reflex's own: hydration, page loads, client storage
        if state_name not in self._undeclared:
            self._undeclared.add(state_name)
            logger.warning(
                "%s.%s has no declared access level: its events need a full session",
                state_cls.__module__,
                state_cls.__qualname__,
            )
        return FULL

    def _states_to_reset(self, root_cls: type[BaseState]) -> tuple[type[BaseState], ...]:
        """Every state of the app that is not public, but the session state (the guard keeps it)."""
        if root_cls not in self._reset_on_refusal:

            def public(state_cls: type[BaseState]) -> bool:
                rule = self._rules.get(state_cls.get_full_name())
                return rule is not None and rule.level == 0

            self._reset_on_refusal[root_cls] = tuple(
                state_cls
                for state_cls in app_state_classes(root_cls)
                if state_cls is not SessionState and not public(state_cls)
            )
        return self._reset_on_refusal[root_cls]

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
        if destination is None and level >= self.required_level(event):
            return None
        if info is None:
            expired = token is not None and await asyncio.to_thread(flows.pending_session_expired, services, token)
            destination = routes.where_to(None, path, pending_expired=expired) or routes.LOGIN
        elif destination is None:  # a handler of a page this session may not use, sent from elsewhere
            destination = routes.where_to(info, routes.USER_HOME) or routes.USER_HOME
        for state_cls in self._states_to_reset(type(root)):
            (await root.get_state(state_cls)).reset()
        script = browser_scripts.hard_redirect_script(destination)
        return StateUpdate(events=Event.from_event_type(rx.call_script(script)))
