"""The first factor in tests: a password sign-in, and reading the outcomes: who signed in, and how long to wait."""

from __future__ import annotations

import math
from datetime import datetime

from fuzzydice.auth import flows
from fuzzydice.outcome import Code, Failure, Outcome
from fuzzydice.services import Services
from tests.conftest import STRONG_PASSWORD

SIGN_IN_IP = "203.0.113.10"
"""Where the password sign-ins of the tests come from, unless a test says otherwise."""


def password_sign_in(services: Services, email: str, password: str = STRONG_PASSWORD, *, ip: str = SIGN_IN_IP) -> Outcome:
    """A password sign-in through the real flow (`SignedIn` on success)."""
    return flows.sign_in_with_password(services, email=email, password=password, ip=ip)


def user_of(outcome: Outcome) -> int | None:
    """The user a sign-in (`SignedIn`) or registration (an id) succeeded for; None on a failure."""
    if not outcome.ok:
        return None
    value = outcome.value
    return value if isinstance(value, int) else value.user_id


def wait_of(outcome: Outcome, now: datetime) -> int | None:
    """Whole seconds to wait before trying again (at least 1) when refused for now; else None."""
    if outcome.ok or outcome.code not in (Code.RATE_LIMITED, Code.BUSY) or outcome.retry_at is None:
        return None
    return max(1, math.ceil((outcome.retry_at - now).total_seconds()))


def is_wrong(outcome: Outcome) -> bool:
    """The answer to a wrong password and to an unknown email alike."""
    return outcome == Failure(Code.WRONG_CREDENTIALS)
