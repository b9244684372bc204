"""The sign-in journey: from a session and the account's factors, the next step.

Reflex-free: the pages map steps to routes (`fuzzydice.ui.routes.page_for`), the JSON API
returns them as data. A step is one of: enrol a second factor (the kinds that may be
enrolled), give one of these second factors (the methods, best first), see fresh backup
codes, or done (with the page to land on).

The two factors must differ: a kind whose channel proved the first step (e.g. an emailed
reset link and an emailed code) is never offered as the second step of that sign-in.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from fuzzydice.auth.sessions import FULL, SessionInfo
from fuzzydice.mfa.kinds import KINDS

PREFERENCE = ("passkey", "totp", "sms_code", "email_code", "backup_codes")
"""Methods in the order they are offered (kinds not known to this server are skipped)."""

FIRST_FACTOR_CHANNELS: dict[str, str] = {
    "password": "knowledge",
    "wallet": "wallet",
    "email_link": "email",
    "sms_link": "phone",
    "passkey": "device",
}
"""Which channel each way of proving the first step uses (compared with the kinds' `channel`)."""


class StepKind(StrEnum):
    """What the session must do next. Values are part of the API."""

    ENROL = "enrol_second_factor"
    SECOND_FACTOR = "second_factor"
    SHOW_BACKUP_CODES = "show_backup_codes"
    DONE = "done"


@dataclass(frozen=True)
class Step:
    """The next step: its kind, the methods it offers (best first) and, when done, where to land."""

    kind: StepKind
    methods: tuple[str, ...] = ()
    landing: str | None = None

    @property
    def needs_code(self) -> bool:
        """Whether the account has a second factor to give at this step."""
        return self.kind == StepKind.SECOND_FACTOR

    def as_dict(self) -> dict:
        """The step as JSON-ready data."""
        data: dict = {"step": self.kind.value}
        if self.methods:
            data["methods"] = list(self.methods)
        if self.landing is not None:
            data["landing"] = self.landing
        return data


def _differs(kind: str, first_factor: str | None) -> bool:
    channel = FIRST_FACTOR_CHANNELS.get(first_factor or "")
    return channel is None or KINDS[kind].channel != channel


def second_factor_methods(usable: frozenset[str], first_factor: str | None) -> tuple[str, ...]:
    """The methods a session whose first step was `first_factor` may give, best first."""
    return tuple(kind for kind in PREFERENCE if kind in usable and kind in KINDS and _differs(kind, first_factor))


def enrolment_methods(first_factor: str | None) -> tuple[str, ...]:
    """The kinds an account may enrol as its first second factor, best first."""
    return tuple(
        kind for kind in PREFERENCE if kind in KINDS and KINDS[kind].enrols_alone and _differs(kind, first_factor)
    )


def next_step(
    *,
    factor_level: int,
    first_factor: str | None,
    usable: frozenset[str],
    backup_codes_pending: bool = False,
    landing: str | None = None,
) -> Step:
    """The step a session is at.

    Args:
        factor_level: the session's level (`FIRST_FACTOR` or `FULL`).
        first_factor: how its first step was proved (`password`, `wallet`, …).
        usable: the kinds of second factor the account can give now (`registry.usable_kinds`).
        backup_codes_pending: fresh backup codes wait to be seen by this session.
        landing: where a finished sign-in goes (the page asked for, already checked by the caller).
    """
    if factor_level >= FULL:
        if backup_codes_pending:
            return Step(StepKind.SHOW_BACKUP_CODES)
        return Step(StepKind.DONE, landing=landing)
    methods = second_factor_methods(usable, first_factor)
    if methods:
        return Step(StepKind.SECOND_FACTOR, methods)
    return Step(StepKind.ENROL, enrolment_methods(first_factor))


def step_of(info: SessionInfo, landing: str | None = None) -> Step:
    """The step of a live session."""
    return next_step(
        factor_level=info.factor_level,
        first_factor=info.first_factor,
        usable=info.factors,
        backup_codes_pending=info.backup_codes_pending,
        landing=landing,
    )


def after_first_factor(session, *, user_id: int, first_factor: str) -> Step:
    """The step right after a first factor (`session`: an open database session)."""
    from fuzzydice.auth.sessions import FIRST_FACTOR
    from fuzzydice.mfa.registry import usable_kinds

    return next_step(factor_level=FIRST_FACTOR, first_factor=first_factor, usable=usable_kinds(session, user_id))
