"""Helpers of the second-factor tests: codes at the pinned clock, and an enrolled user.

Everything runs on the real flows, the real database copy and real pyotp; time
moves only through the `FixedClock`. The fixtures built on them (`enrolled`, `user`,
`token`, `sid`) are in tests/conftest.py, for every folder.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from fuzzydice.auth import step_up
from fuzzydice.clock import FixedClock
from fuzzydice.mfa import flows, lock, totp
from fuzzydice.models import AuditEvent, AuthSession, BackupCode, SecondFactorLock
from fuzzydice.services import Services
from tests.conftest import full_session, next_totp_code, pending_session, session_id_of


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
    pending = flows.pending_enrolment(services, user_id=user_id, session_id=enrolling)
    assert pending.ok, pending
    enrolment = pending.value
    result = flows.activate_totp(services, user_id=user_id, session_id=enrolling, code=code_at(services, enrolment.secret))
    assert result.ok, result
    codes = flows.backup_codes_to_show(services, user_id=user_id, session_id=enrolling)
    assert codes is not None
    clock = services.clock
    assert isinstance(clock, FixedClock)
    clock.advance(services.settings.totp_period)
    _, signing_in = pending_session(services, user_id)
    return Enrolled(user_id, enrolment.secret, codes, signing_in)


def make_fresh(services: Services, user: Enrolled, session_id: int, secret: str | None = None) -> None:
    """Step up a full session with a code of `secret` (the user's own by default): it is fresh for
    `step_up_lifetime`. The clock moves one step on (`next_totp_code`)."""
    clock = services.clock
    assert isinstance(clock, FixedClock)
    code = next_totp_code(services, clock, secret or user.secret)
    outcome = step_up.confirm_second_factor(services, session_id=session_id, user_id=user.user_id, code=code)
    assert outcome.ok, outcome


def fresh_session(services: Services, user: Enrolled) -> tuple[str, int]:
    """A new full session of `user`, stepped up just now (see `make_fresh`): (token, session id)."""
    token = full_session(services, user.user_id)
    session_id = session_id_of(services, token)
    make_fresh(services, user, session_id)
    return token, session_id


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


def stored_hashes(services: Services, user_id: int) -> set[str]:
    """The stored hashes of the user's backup codes (used or not)."""
    with services.db() as session:
        return set(session.execute(sa.select(BackupCode.code_hash).where(BackupCode.user_id == user_id)).scalars())


def session_row(services: Services, session_id: int) -> AuthSession | None:
    """The session's row (None once it is gone)."""
    with services.db() as session:
        return session.get(AuthSession, session_id)


def audit_events(services: Services, user_id: int, *kinds: str) -> list[AuditEvent]:
    """The audit events of `user_id` (of these kinds only, when given), oldest first."""
    query = sa.select(AuditEvent).where(AuditEvent.user_id == user_id).order_by(AuditEvent.id)
    if kinds:
        query = query.where(AuditEvent.kind.in_([str(kind) for kind in kinds]))
    with services.db() as session:
        return list(session.execute(query).scalars())


def _bare(text: str) -> str:
    return "".join(text.split()).replace("-", "").upper()


def assert_audit_holds_none_of(services: Services, values: Iterable[str]) -> None:
    """No audit entry (of any user, in any text column) holds one of `values`: a code or a secret,
    as typed, grouped, dashed or not, in any case."""
    wanted = {_bare(value) for value in values if len(_bare(value)) >= 6}
    table = AuditEvent.__table__
    with services.db() as session:
        rows = session.execute(sa.select(table)).all()
    assert rows, "no audit entry to look at"
    for row in rows:
        for column, text in zip(table.c, row):
            if isinstance(text, str):
                held = [value for value in wanted if value in _bare(text)]
                assert not held, f"audit_events.{column.name} holds a code or secret: {text!r}"


def codes_since(services: Services, secret: str, since_step: int) -> list[str]:
    """Every code of `secret` a check could have accepted since `since_step`, up to the clock's step and its window."""
    window = services.settings.totp_window
    return [code_at(services, secret, offset) for offset in range(since_step - step_now(services) - window, window + 2)]


TYPED_WRONG = [f"{n:06d}" for n in range(100)] + ["123456", "AAAA-AAAA-AAAA-AAAA"]
"""The wrong codes the tests type (`wrong_code` picks from the first hundred)."""
