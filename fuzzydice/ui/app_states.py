"""Which Reflex states are this app's own: the guard wipes them and checks their events' payloads.

Deny by default: every state class defined in the `fuzzydice` package counts, so a new
page's state is covered without being listed anywhere. Reflex's own states (router,
hydration, on_load bookkeeping) are left to Reflex.
"""

from __future__ import annotations

from reflex.state import BaseState

APP_PACKAGE = "fuzzydice"


def is_app_state(state_cls: type) -> bool:
    """Whether a state class is one of this app's rather than Reflex's own."""
    return state_cls.__module__.partition(".")[0] == APP_PACKAGE


def app_state_classes(root_cls: type[BaseState]) -> list[type[BaseState]]:
    """Every state class of the app: the substates, at any depth, of `root_cls` defined in this package."""
    found: list[type[BaseState]] = []
    todo = list(root_cls.get_substates())
    while todo:
        state_cls = todo.pop()
        todo.extend(state_cls.get_substates())
        if is_app_state(state_cls):
            found.append(state_cls)
    return sorted(found, key=lambda cls: cls.get_full_name())
