"""One result type for every flow: success with its value, or a failure with a stable code.

Flows never return display text. A failure carries a `Code` (stable: the JSON API
returns it as it is) and the numbers that go with it (attempts left, when a lock
lifts, problems per form field). The UI turns codes into words in one place
(`fuzzydice.ui.messages`), with numbers read from settings.

    outcome = flows.something(...)
    if not outcome.ok:
        return say(outcome)      # a Failure
    use(outcome.value)           # an Ok
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Generic, TypeVar

T = TypeVar("T")


class Code(StrEnum):
    """Why a flow failed. Values are part of the API: add codes, never rename one."""

    # Input and sessions
    INVALID_INPUT = "invalid_input"
    """`fields` names each bad field and its problem."""
    SESSION_ENDED = "session_ended"
    """The session is gone, expired, not this user's, or not at the level the flow needs."""
    NOT_FRESH = "not_fresh"
    """A sensitive change needs a second factor given again within `step_up_lifetime`."""
    NEEDS_WALLET_FIRST = "needs_wallet_first"
    """A wallet account signs a fresh message before giving the code (step-up)."""
    BUSY = "busy"
    """The server (or the account's other codes) is busy right now; `retry_at` when known."""
    RATE_LIMITED = "rate_limited"
    """Too many requests from this network or for this account; `retry_at`."""

    # First factor
    WRONG_CREDENTIALS = "wrong_credentials"
    ACCOUNT_DISABLED = "account_disabled"
    EMAIL_TAKEN = "email_taken"

    # Second factors
    WRONG_CODE = "wrong_code"
    """`attempts_left`; with 0 left, `retry_at` is when the lock lifts."""
    CODE_ALREADY_USED = "code_already_used"
    LOCKED = "locked"
    """Too many wrong codes: `retry_at` is when the lock lifts."""
    EXPIRED = "expired"
    ALREADY_ENROLLED = "already_enrolled"
    """The account already has this factor (another session enrolled it first)."""
    FACTOR_NOT_ENROLLED = "factor_not_enrolled"
    METHOD_NOT_OFFERED = "method_not_offered"
    """The method may not serve this step (e.g. the channel that proved the first factor)."""
    LAST_FACTOR = "last_factor"

    # Identities
    WALLET_TAKEN = "wallet_taken"
    WRONG_WALLET = "wrong_wallet"
    HAS_PASSWORD = "has_password"
    LAST_IDENTITY = "last_identity"
    IDENTITY_NOT_FOUND = "identity_not_found"

    # Wallet signatures (Sign-In with Ethereum)
    CHALLENGE_UNKNOWN = "challenge_unknown"
    """The signed message is not one this server issued, or it was used or expired."""
    SIGNATURE_INVALID = "signature_invalid"
    """`detail` carries the failed check's reason code (`fuzzydice.siwe.errors`)."""
    CHAIN_NOT_SUPPORTED = "chain_not_supported"
    CHAIN_UNAVAILABLE = "chain_unavailable"
    NO_WALLET = "no_wallet"

    # Mail and SMS
    SEND_FAILED = "send_failed"
    """The message could not be sent (provider down or refused); trying again may work."""

    # Demo faucet
    FAUCET_OFF = "faucet_off"
    """No faucet here: production mode, or a chain that is not a test chain (send funds from another wallet)."""
    FAUCET_USED = "faucet_used"
    """This address already got test funds on this chain in this period; `retry_at` is when it may ask again."""
    FAUCET_LIMIT = "faucet_limit"
    """The account took its grants of this period (all its wallets together); `retry_at` is when more are allowed."""
    FAUCET_SEND_FAILED = "faucet_send_failed"
    """The chain did not take or mine the transfers; nothing was used up, trying again may work."""

    # Play sessions
    PLAY_RUNNING = "play_running"
    """A play session of this account is running already (`detail`: its id); end it first."""
    PLAY_NOT_FOUND = "play_not_found"
    """No play session of this account has that id."""


@dataclass(frozen=True)
class Problem:
    """What is wrong with one form field: a code and its parameters (`hint`: a strength tip, …)."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Ok(Generic[T]):
    """Success, with the flow's value (None when there is nothing to return)."""

    value: T = None  # type: ignore[assignment]
    ok: ClassVar[bool] = True


@dataclass(frozen=True)
class Failure:
    """A refusal with its stable code and the numbers that go with it."""

    code: Code
    attempts_left: int | None = None
    retry_at: datetime | None = None
    fields: Mapping[str, Problem] = field(default_factory=dict)
    detail: str | None = None
    """A further machine-readable reason (e.g. which SIWE check failed)."""
    ok: ClassVar[bool] = False

    def as_dict(self) -> dict[str, Any]:
        """The failure as JSON-ready data (the API's error body)."""
        data: dict[str, Any] = {"code": self.code.value}
        if self.attempts_left is not None:
            data["attempts_left"] = self.attempts_left
        if self.retry_at is not None:
            data["retry_at"] = self.retry_at.isoformat()
        if self.fields:
            data["fields"] = {name: {"code": p.code, **dict(p.params)} for name, p in self.fields.items()}
        if self.detail is not None:
            data["detail"] = self.detail
        return data


Outcome = Ok[T] | Failure
"""What every flow returns."""


def fail(code: Code, **params: Any) -> Failure:
    """Shorthand for `Failure(code, ...)`."""
    return Failure(code, **params)


def invalid(**fields: Problem) -> Failure:
    """A form with problems in the named fields."""
    return Failure(Code.INVALID_INPUT, fields=fields)


def invalid_fields(**found: Problem | None) -> Failure | None:
    """INVALID_INPUT naming each field whose problem is not None; None when every field is fine."""
    problems = {name: problem for name, problem in found.items() if problem is not None}
    return invalid(**problems) if problems else None
