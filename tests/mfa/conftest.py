"""Helpers of the second-factor tests: codes at the pinned clock, and an enrolled user.

Everything runs on the real flows, the real database copy and real pyotp; time
moves only through the `FixedClock`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import pytest
import sqlalchemy as sa

from fuzzydice.clock import FixedClock
from fuzzydice.mfa import flows, lock, totp
from fuzzydice.models import AuditEvent, SecondFactorLock
from fuzzydice.services import Services
from tests.conftest import pending_session


def step_now(services: Services) -> int:
    """The TOTP step of the services' clock."""
    return totp.time_step(services.clock.now(), services.settings)


def code_at(services: Services, secret: str, offset: int = 0) -> str:
    """The code of `secret` at the clock's step plus `offset` steps."""
    return totp.code_at_step(secret, step_now(services) + offset, services.settings)


def wrong_code(services: Services, secret: str) -> str:
    """A well-formed code that no step of the current window accepts."""
    settings = services.settings
    window = {code_at(services, secret, offset) for offset in range(-settings.totp_window, settings.totp_window + 1)}
    return next(c for c in (f"{n:0{settings.totp_digits}d}" for n in range(100)) if c not in window)


def raw(code: str) -> str:
    """A displayed backup code without its dashes."""
    return code.replace("-", "")


@dataclass(frozen=True)
class Enrolled:
    """A user with an active authenticator and a fresh set of backup codes, and a sign-in waiting for its code."""

    user_id: int
    secret: str
    backup_codes: list[str]  # as displayed: XXXX-XXXX-XXXX-XXXX
    session_id: int = 0
    """A first-factor session of the user (as after the password): its codes count for sign-in."""


def enrol(services: Services, user_id: int) -> Enrolled:
    """Enrol through the real flows from a first-factor session, as a new user does; then sign in again with the
    password (a new first-factor session). The clock then moves one step on, so a fresh code is usable."""
    _, enrolling = pending_session(services, user_id)
    enrolment = flows.pending_enrolment(services, user_id=user_id, session_id=enrolling)
    result = flows.activate_totp(services, user_id=user_id, session_id=enrolling, code=code_at(services, enrolment.secret))
    assert result.ok, result
    codes = flows.backup_codes_to_show(services, user_id=user_id, session_id=enrolling)
    assert codes is not None
    clock = services.clock
    assert isinstance(clock, FixedClock)
    clock.advance(services.settings.totp_period)
    _, signing_in = pending_session(services, user_id)
    return Enrolled(user_id, enrolment.secret, codes, signing_in)


def lock_row(services: Services, user_id: int, scope: lock.Scope = lock.SIGN_IN) -> SecondFactorLock | None:
    """The second-step lock's row of `user_id` in `scope` (None before any code was checked)."""
    with services.db() as session:
        return session.get(SecondFactorLock, (user_id, scope))


def failure_times(row: SecondFactorLock) -> list[datetime]:
    """The failure times a lock row keeps (oldest first); some may have aged out since it was written."""
    return [datetime.fromisoformat(t) for t in json.loads(row.recent_failures)]


def failure_count(row: SecondFactorLock) -> int:
    """How many failure times a lock row keeps."""
    return len(failure_times(row))


def audit_events(services: Services, user_id: int) -> list[AuditEvent]:
    """Every audit event of `user_id`."""
    with services.db() as session:
        return list(session.execute(sa.select(AuditEvent).where(AuditEvent.user_id == user_id)).scalars())


@pytest.fixture
def enrolled(services: Services, make_user: Callable[..., int]) -> Enrolled:
    """A user with TOTP active (activated one step ago) and ten backup codes."""
    return enrol(services, make_user())
