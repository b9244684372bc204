"""What an event handler accepts from the browser, checked before the handler runs.

Reflex calls `handler(state, **payload)` with whatever a socket.io frame carries:
a missing or extra key is a TypeError, and a value of the wrong type reaches the
handler body. The guard therefore asks `refusal` about every event of the app's
own states: the payload must name exactly the handler's parameters, and each
value must be of the parameter's annotated type, within bounds. Deny by default:
a parameter without an annotation, or with one this module does not know, is
refused, so a new handler must be annotated with one of `KNOWN_TYPES`.

Reflex's own states (hydration, page loads, client storage, frontend errors) are
left to Reflex: their events and payloads are Reflex's protocol, not ours.

Handler bodies still read fields of a `dict` argument with `text_field`, which
gives '' for anything but a bounded text, so no nested value reaches a flow.
"""

from __future__ import annotations

import functools
import inspect
import logging
import math
from collections.abc import Callable, Mapping
from typing import Any

import reflex as rx
from reflex.event import Event
from reflex.state import BaseState, StateUpdate
from reflex_base.utils.form import FORM_DATA_ENTRIES_KEY

from fuzzydice.ui.app_states import is_app_state

logger = logging.getLogger(__name__)

REFUSED_MESSAGE = "That request could not be understood. Reload the page and try again."
REFUSED_TOAST_ID = "fd-request-refused"

KNOWN_TYPES = (str, int, bool, dict, list)
MAX_TEXT_ARGUMENT = 1_000  # characters of a `str` argument (a wallet id, a purpose)
MAX_FIELDS = 64  # entries of a `dict` argument (form fields, a wallet script's answer)
MAX_ITEMS = 64  # items of a `list` argument (the wallets found on the page)
MAX_FIELD_NAME = 128  # characters of a field name
MAX_TEXT_VALUE = 200_000  # characters of one text inside a dict or list (a wallet icon is a data: URI)
MAX_PAYLOAD_TEXT = 1_000_000  # characters of all the text of one event
MAX_INT = 2**63 - 1
FORM_TEXT_LIMIT = 4_096  # characters of a form's text field; the flows give their own messages below that

# Vars that say a request is under way, with their resting values: a refused event
# puts them back, so the page's buttons work again.
RESTING_VALUES: dict[str, Any] = {"busy": False, "status": ""}


class _Budget:
    """Characters of text left for the rest of one payload."""

    def __init__(self) -> None:
        self.left = MAX_PAYLOAD_TEXT

    def spend(self, text: str) -> bool:
        self.left -= len(text)
        return self.left >= 0


@functools.lru_cache(maxsize=512)
def _parameters(fn: Callable) -> tuple[inspect.Parameter, ...] | str:
    """The handler's parameters after `self`, or why its signature cannot be read."""
    try:
        signature = inspect.signature(fn, eval_str=True)
    except Exception as exc:  # an annotation that does not resolve
        return f"its signature cannot be read ({type(exc).__name__})"
    return tuple(signature.parameters.values())[1:]


def unsupported_parameters(fn: Callable) -> list[str]:
    """The parameters of a handler that no payload can satisfy: unannotated, of an unknown type, or variadic.

    Args:
        fn: The handler's function (`EventHandler.fn`), including `self`.

    Returns:
        A description of each such parameter; empty when every payload can be checked.
    """
    parameters = _parameters(fn)
    if isinstance(parameters, str):
        return [parameters]
    problems = []
    for parameter in parameters:
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            problems.append(f"'{parameter.name}' is variadic")
        elif parameter.annotation is parameter.empty:
            problems.append(f"'{parameter.name}' has no annotation")
        elif parameter.annotation not in KNOWN_TYPES:
            problems.append(f"'{parameter.name}' has an annotation the validator does not know")
    return problems


def _scalar_problem(value: object, budget: _Budget) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        if len(value) > MAX_TEXT_VALUE or not budget.spend(value):
            return "a text is too long"
        return None
    if isinstance(value, int):
        return None if abs(value) <= MAX_INT else "a number is out of range"
    if isinstance(value, float):
        return None if math.isfinite(value) else "a number is not finite"
    return f"a field holds a {type(value).__name__}"


def _fields_problem(pairs: list, budget: _Budget) -> str | None:
    if len(pairs) > MAX_FIELDS:
        return f"more than {MAX_FIELDS} fields"
    for pair in pairs:
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2):
            return "a form entry is not a name and a value"
        name, value = pair
        if not isinstance(name, str):
            return "a field name is not text"
        if len(name) > MAX_FIELD_NAME or not budget.spend(name):
            return "a field name is too long"
        if problem := _scalar_problem(value, budget):
            return problem
    return None


def _dict_problem(value: object, budget: _Budget) -> str | None:
    if not isinstance(value, dict):
        return f"a dict was expected, not {_kind(value)}"
    if FORM_DATA_ENTRIES_KEY in value:  # a form as Reflex's frontend sends it: its ordered [name, value] entries
        entries = value[FORM_DATA_ENTRIES_KEY]
        if len(value) != 1 or not isinstance(entries, list):
            return "the form entries are malformed"
        return _fields_problem(entries, budget)
    return _fields_problem(list(value.items()), budget)


def _list_problem(value: object, budget: _Budget) -> str | None:
    if not isinstance(value, list):
        return f"a list was expected, not {_kind(value)}"
    if len(value) > MAX_ITEMS:
        return f"more than {MAX_ITEMS} items"
    for item in value:
        if isinstance(item, str):
            problem = _scalar_problem(item, budget)
        elif isinstance(item, dict) and FORM_DATA_ENTRIES_KEY not in item:
            problem = _fields_problem(list(item.items()), budget)
        else:
            problem = f"an item is {_kind(item)}"
        if problem:
            return problem
    return None


def _kind(value: object) -> str:
    return "null" if value is None else f"a {type(value).__name__}"


def _value_problem(value: object, annotation: type, budget: _Budget) -> str | None:
    if annotation is str:
        if not isinstance(value, str):
            return f"text was expected, not {_kind(value)}"
        return None if len(value) <= MAX_TEXT_ARGUMENT and budget.spend(value) else "the text is too long"
    if annotation is bool:
        return None if isinstance(value, bool) else f"true or false was expected, not {_kind(value)}"
    if annotation is int:
        if not isinstance(value, int) or isinstance(value, bool):
            return f"a whole number was expected, not {_kind(value)}"
        return None if abs(value) <= MAX_INT else "the number is out of range"
    if annotation is dict:
        return _dict_problem(value, budget)
    if annotation is list:
        return _list_problem(value, budget)
    return "the parameter's type is not one the validator knows"


def payload_problem(fn: Callable, payload: object) -> str | None:
    """Why `payload` cannot be passed to the handler `fn`, or None when it fits.

    The description names parameters the handler declares, never a value or a
    name the client made up, so it is safe to log.

    Args:
        fn: The handler's function (`EventHandler.fn`), including `self`.
        payload: The event's payload as it arrived.

    Returns:
        What is wrong, or None.
    """
    parameters = _parameters(fn)
    if isinstance(parameters, str):
        return parameters
    if unsupported := unsupported_parameters(fn):
        return f"the handler cannot be checked: {unsupported[0]}"
    if not isinstance(payload, dict):
        return f"the payload is {_kind(payload)}, not an object"
    names = {parameter.name for parameter in parameters}
    if extra := [key for key in payload if key not in names]:
        return f"{len(extra)} unexpected argument{'s' if len(extra) != 1 else ''}"
    budget = _Budget()
    for parameter in parameters:
        if parameter.name not in payload:
            if parameter.default is parameter.empty:
                return f"argument '{parameter.name}' is missing"
            continue
        if problem := _value_problem(payload[parameter.name], parameter.annotation, budget):
            return f"argument '{parameter.name}': {problem}"
    return None


async def refusal(root: BaseState, event: Event) -> StateUpdate | None:
    """Refuse an event of an app state whose payload does not fit its handler; None lets it run.

    The refusal shows the person a message, puts the state's busy markers back to
    rest, and logs one warning naming the handler and the problem (never a value).

    Args:
        root: The tab's root state (the guard's `state`).
        event: The event about to run.

    Returns:
        The update to send instead of running the event, or None.
    """
    try:
        state_cls = event.state_cls
    except LookupError:  # not a registered state: Reflex refuses it before any middleware runs
        return None
    if not is_app_state(state_cls):
        return None
    handler = state_cls.event_handlers.get(event.name.rpartition(".")[2])
    if handler is None:  # registered under this name but not on the class: nothing to check it against
        logger.warning("Refused event of %s: no such handler", state_cls.__name__)
    elif (problem := payload_problem(handler.fn, event.payload)) is not None:
        logger.warning("Refused event %s.%s: %s", state_cls.__name__, handler.fn.__name__, problem)
    else:
        return None
    substate = await root.get_state(state_cls)
    for name, resting in RESTING_VALUES.items():
        if name in state_cls.base_vars and getattr(substate, name) != resting:
            setattr(substate, name, resting)
    delta = await root._get_resolved_delta()
    root._clean()
    return StateUpdate(
        delta=delta, events=Event.from_event_type(rx.toast.error(REFUSED_MESSAGE, id=REFUSED_TOAST_ID))
    )


def text_field(values: object, name: str, max_length: int = FORM_TEXT_LIMIT) -> str:
    """A text field of a submitted form or a wallet script's answer; '' when it is missing, not text, or too long.

    Args:
        values: The handler's `dict` argument.
        name: The field.
        max_length: The longest text accepted, in characters.

    Returns:
        The text, or ''.
    """
    value = values.get(name) if isinstance(values, Mapping) else None
    return value if isinstance(value, str) and len(value) <= max_length else ""
