"""The payload check the guard runs before every event of the app's states (attack review #7, finding 10)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fuzzydice.ui.event_payloads import (
    MAX_FIELDS,
    MAX_ITEMS,
    MAX_PAYLOAD_TEXT,
    MAX_TEXT_ARGUMENT,
    MAX_TEXT_VALUE,
    payload_problem,
    text_field,
    unsupported_parameters,
)

ROOT = Path(__file__).resolve().parents[2]
FORM_KEY = "__reflex_form_data__"


# Handlers as the app writes them (the first parameter is the state).
def submit(self, form: dict):
    """A form handler."""


def choose(self, wallet_id: str):
    """A handler taking text."""


def found(self, found: list):
    """A handler taking a list."""


def count(self, number: int, flag: bool):
    """A handler taking a number and a flag."""


def no_args(self):
    """A handler without arguments."""


def optional(self, page: int = 1):
    """A handler with a default."""


def unannotated(self, form):
    """A handler someone forgot to annotate."""


def any_value(self, value: Any):
    """Reflex's setvar has this shape."""


def generic(self, form: dict[str, str]):
    """A parameterized annotation: not one the validator knows."""


def variadic(self, *args: str):
    """Variadic parameters cannot be checked."""


@pytest.mark.parametrize(
    ("fn", "payload"),
    [
        (submit, {"form": {"email": "a@example.com", "password": "p", "remember": True}}),
        (submit, {"form": {FORM_KEY: [["email", "a@example.com"], ["password", "p"], ["remember", None]]}}),
        (submit, {"form": {}}),
        (submit, {"form": {"n": 3, "x": 1.5}}),
        (choose, {"wallet_id": "c0ffee00-0000-4000-8000-000000000001"}),
        (found, {"found": [{"id": "a", "name": "W", "icon": "data:image/svg+xml,<svg/>", "rdns": "x"}]}),
        (found, {"found": []}),
        (count, {"number": 5, "flag": False}),
        (no_args, {}),
        (optional, {}),
        (optional, {"page": 2}),
    ],
)
def test_what_the_frontend_sends_is_accepted(fn, payload):
    assert payload_problem(fn, payload) is None


@pytest.mark.parametrize(
    ("fn", "payload", "problem"),
    [
        (submit, [{"form": {}}], "the payload is a list"),
        (submit, None, "the payload is null"),
        (submit, "form", "the payload is a str"),
        (submit, {}, "argument 'form' is missing"),
        (submit, {"form": {}, "next": "/x"}, "1 unexpected argument"),
        (no_args, {"x": 1, "y": 2}, "2 unexpected arguments"),
        (submit, {"form": [["email", "x"]]}, "a dict was expected, not a list"),
        (submit, {"form": None}, "a dict was expected, not null"),
        (submit, {"form": "email=x"}, "a dict was expected, not a str"),
        (submit, {"form": {"email": {"x": 1}}}, "a field holds a dict"),
        (submit, {"form": {"password": ["x"]}}, "a field holds a list"),
        (submit, {"form": {"email": "x" * (MAX_TEXT_VALUE + 1)}}, "a text is too long"),
        (submit, {"form": {"x" * 200: "v"}}, "a field name is too long"),
        (submit, {"form": {str(i): "" for i in range(MAX_FIELDS + 1)}}, f"more than {MAX_FIELDS} fields"),
        (submit, {"form": {"n": 2**70}}, "a number is out of range"),
        (submit, {"form": {"n": float("nan")}}, "a number is not finite"),
        (submit, {"form": {FORM_KEY: "email=x"}}, "the form entries are malformed"),
        (submit, {"form": {FORM_KEY: [], "extra": 1}}, "the form entries are malformed"),
        (submit, {"form": {FORM_KEY: [["email"]]}}, "a form entry is not a name and a value"),
        (submit, {"form": {FORM_KEY: [[1, "x"]]}}, "a field name is not text"),
        (submit, {"form": {FORM_KEY: [["email", {"x": 1}]]}}, "a field holds a dict"),
        (choose, {"wallet_id": {"id": "x"}}, "text was expected, not a dict"),
        (choose, {"wallet_id": None}, "text was expected, not null"),
        (choose, {"wallet_id": 7}, "text was expected, not a int"),
        (choose, {"wallet_id": "x" * (MAX_TEXT_ARGUMENT + 1)}, "the text is too long"),
        (found, {"found": {"id": "x"}}, "a list was expected, not a dict"),
        (found, {"found": [["nested"]]}, "an item is a list"),
        (found, {"found": [{"id": {"x": 1}}]}, "a field holds a dict"),
        (found, {"found": [{FORM_KEY: []}]}, "an item is a dict"),
        (found, {"found": ["x"] * (MAX_ITEMS + 1)}, f"more than {MAX_ITEMS} items"),
        (count, {"number": True, "flag": False}, "a whole number was expected, not a bool"),
        (count, {"number": "5", "flag": False}, "a whole number was expected, not a str"),
        (count, {"number": 2**64, "flag": False}, "the number is out of range"),
        (count, {"number": 1, "flag": "true"}, "true or false was expected, not a str"),
        (optional, {"page": None}, "a whole number was expected, not null"),
    ],
)
def test_malformed_payloads_are_refused_with_a_reason(fn, payload, problem):
    assert problem in (payload_problem(fn, payload) or "")


def test_the_whole_payload_has_a_text_budget():
    icon = "x" * (MAX_TEXT_VALUE - 10)
    wallets = [{"icon": icon} for _ in range(MAX_PAYLOAD_TEXT // len(icon) + 1)]
    assert payload_problem(found, {"found": wallets}) == "argument 'found': a text is too long"
    assert payload_problem(found, {"found": wallets[:2]}) is None


@pytest.mark.parametrize("fn", [unannotated, any_value, generic, variadic])
def test_handlers_the_validator_cannot_check_are_refused(fn):
    assert unsupported_parameters(fn)
    assert payload_problem(fn, {}).startswith("the handler cannot be checked")


def test_a_reason_never_repeats_a_value_or_a_made_up_name():
    secret = "hunter2-very-secret"
    for payload in ({"form": {"password": [secret]}}, {"form": {}, secret: 1}, {"form": {secret: {"x": 1}}}):
        assert secret not in payload_problem(submit, payload)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"email": "a@b.co"}, "a@b.co"),
        ({"email": {"x": 1}}, ""),
        ({"email": ["a"]}, ""),
        ({"email": None}, ""),
        ({"email": 5}, ""),
        ({}, ""),
        ([["email", "a"]], ""),
        (None, ""),
        ({"email": "x" * 11}, ""),
        ({"email": "x" * 10}, "x" * 10),
    ],
)
def test_text_field_gives_text_or_nothing(values, expected):
    assert text_field(values, "email", 10) == expected


APP_HANDLERS = """
import json
from reflex.state import State
import fuzzydice.fuzzydice  # registers every page's state
from fuzzydice.ui.app_states import is_app_state
from fuzzydice.ui.event_payloads import unsupported_parameters

def substates(cls):
    for sub in cls.get_substates():
        yield sub
        yield from substates(sub)

report = {"own": {}, "framework": {}}
for cls in substates(State):
    if not is_app_state(cls):
        continue
    for name, handler in cls.event_handlers.items():
        key = "own" if handler.fn.__module__.split(".")[0] == "fuzzydice" else "framework"
        report[key][f"{cls.__name__}.{name}"] = unsupported_parameters(handler.fn)
print(json.dumps(report))
"""


def test_every_handler_of_the_app_can_be_checked():
    """Deny by default: a new handler with an unannotated or unknown parameter fails here first.

    Run in a fresh interpreter: importing the app here would leave its states behind
    for the app-running tests of the same session.
    """
    env = {**os.environ, "REFLEX_TELEMETRY_ENABLED": "0", "REFLEX_CHECK_LATEST_VERSION": "0"}
    result = subprocess.run(
        [sys.executable, "-c", APP_HANDLERS], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
        stdin=subprocess.DEVNULL, check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    own, framework = report["own"], report["framework"]
    assert {"LoginState.submit", "WalletSignInState.connected", "SecurityState.sign_with_wallet"} <= set(own)
    assert {name: problems for name, problems in own.items() if problems} == {}
    # Reflex's setvar exists on every state, with `value: Any`: the frontend never sends it for
    # the app's states, and the check refuses it (no client-set public var).
    assert set(framework) == {name for name in framework if name.endswith(".setvar")}
    assert all(framework.values())
