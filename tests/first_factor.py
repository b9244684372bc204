"""Reading the first-factor flows' outcomes in tests: who signed in, and how long to wait."""

from __future__ import annotations

import math
from datetime import datetime

from fuzzydice.outcome import Code, Failure, Outcome


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
