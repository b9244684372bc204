"""Pages declared once: route, title, access level, on_load and the states they own.

Each page module ends with one `PAGE = Page(...)`; a state shared by several pages,
or belonging to none, declares its level with a `StateAccess` next to its class.
`fuzzydice.ui.pages.ALL_PAGES` and `SHARED_STATES` list them; the app registers the
pages from them, `routes` reads its route classes from them, and the guard its
levels (`access_rules`).

Access levels (`routes.RouteClass`):
    public: no session needed.
    pending: the first factor is done and the second step is in progress (a full session passes too).
    full: both factors done.

Deny by default: the guard treats an app state that no declaration names as `full`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import reflex as rx
from reflex.state import BaseState

from fuzzydice.auth.sessions import FULL
from fuzzydice.settings import Settings
from fuzzydice.ui import routes

Access = routes.RouteClass
ACCESS_LEVELS: tuple[Access, ...] = ("public", "pending", "full")
NEVER = FULL + 1000  # no session reaches it: the states of a page this deployment does not serve


def _check_access(access: str, what: str) -> None:
    if access not in ACCESS_LEVELS:
        raise ValueError(f"{what}: access must be one of {ACCESS_LEVELS}, not {access!r}")


@dataclass(frozen=True)
class Page:
    """One page of the app, declared once at the bottom of its module.

    Attributes:
        route: The route constant (`routes.…`).
        title: The browser tab's title.
        access: Who may open the page and send events of its `states`.
        component: The function that builds the page.
        on_load: The handlers Reflex runs on every load of the page.
        states: The states this page owns: their events need `access`, from any page.
        when: Registered only when this is true of the settings (e.g. demo mode); None: always.
    """

    route: str
    title: str
    access: Access
    component: Callable[[], rx.Component]
    on_load: tuple[Any, ...] = ()
    states: tuple[type[BaseState], ...] = ()
    when: Callable[[Settings], bool] | None = None

    def __post_init__(self) -> None:
        _check_access(self.access, self.route)
        if routes.normalize_path(self.route) != self.route:
            raise ValueError(f"{self.route!r}: declare the route as routes.normalize_path gives it")

    def enabled(self, settings: Settings) -> bool:
        """Whether this deployment serves the page."""
        return self.when is None or bool(self.when(settings))


@dataclass(frozen=True)
class StateAccess:
    """The level of a state shared by pages or belonging to none.

    Attributes:
        state: The state class.
        access: What its events need.
        events: Handlers that need another level than `access` (by handler name).
    """

    state: type[BaseState]
    access: Access
    events: Mapping[str, Access] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_access(self.access, self.state.__name__)
        for name, access in self.events.items():
            _check_access(access, f"{self.state.__name__}.{name}")
            if name not in self.state.event_handlers:
                raise ValueError(f"{self.state.__name__} has no handler {name!r}")


@dataclass(frozen=True)
class StateRule:
    """What the guard asks of the events of one state: a session level, per handler where declared."""

    state: type[BaseState]
    level: int
    events: Mapping[str, int] = field(default_factory=dict)

    def level_of(self, handler: str) -> int:
        """The session level an event of `handler` needs."""
        return self.events.get(handler, self.level)


def access_rules(
    pages: Iterable[Page], shared: Iterable[StateAccess], settings: Settings
) -> dict[str, StateRule]:
    """The guard's rules, by state full name: every state a declaration names, at its declared level.

    The states of a page this deployment does not serve (`when` false) are never allowed.

    Raises:
        ValueError: A state is declared twice with different levels, or both by a page and as shared.
    """
    rules: dict[str, StateRule] = {}

    def add(rule: StateRule) -> None:
        name = rule.state.get_full_name()
        if name in rules and rules[name] != rule:
            raise ValueError(f"{rule.state.__name__} is declared twice with different levels")
        rules[name] = rule

    for page in pages:
        level = routes.required_level(page.access) if page.enabled(settings) else NEVER
        for state_cls in page.states:
            add(StateRule(state_cls, level))
    for declared in shared:
        if declared.state.get_full_name() in rules:
            raise ValueError(f"{declared.state.__name__} belongs to a page: declare it there only")
        events = {name: routes.required_level(access) for name, access in declared.events.items()}
        add(StateRule(declared.state, routes.required_level(declared.access), MappingProxyType(events)))
    return rules


def route_classes(pages: Iterable[Page]) -> dict[Access, frozenset[str]]:
    """The declared routes of each access level.

    Raises:
        ValueError: A route is declared twice.
    """
    pages = list(pages)
    seen: set[str] = set()
    for page in pages:
        if page.route in seen:
            raise ValueError(f"{page.route} is declared twice")
        seen.add(page.route)
    return {access: frozenset(p.route for p in pages if p.access == access) for access in ACCESS_LEVELS}


def register_pages(app: rx.App, pages: Iterable[Page], settings: Settings) -> list[Page]:
    """Add every page this deployment serves to `app`; returns them."""
    added = [page for page in pages if page.enabled(settings)]
    for page in added:
        app.add_page(page.component, route=page.route, title=page.title, on_load=list(page.on_load) or None)
    return added
