"""Use cases of the second step: enrolment, verification, backup codes, on the factor registry.

Page states and the JSON API call these. All are synchronous (run them in a thread
from an event loop), take the clock from `services` and return `fuzzydice.outcome`
results. Each guards its own preconditions: the session must be live and at the right
level, and a change to a factor needs a fresh second factor (`not_fresh`). A change,
the other sessions it ends and its audit entry commit in one transaction.

Whatever is pending belongs to the session that asked for it, never to the user:
a pending authenticator secret and fresh backup codes live on that session's row,
so someone else who signs in with the same password sees neither.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import Session

from fuzzydice import audit, journey
from fuzzydice.auth.freshness import end_other_sessions, fresh_row, require_fresh
from fuzzydice.auth.sessions import FULL, live_row
from fuzzydice.mfa import lock, registry
from fuzzydice.mfa.kinds import KINDS
from fuzzydice.mfa.kinds.backup_codes import codes_to_show, remaining
from fuzzydice.mfa.kinds.totp import Enrolment
from fuzzydice.outcome import Code, Failure, Ok, Outcome, fail
from fuzzydice.services import Services

Method = str
"""A kind of second factor by its registry name (`totp`, `backup_codes`, …)."""

TOTP = registry.TOTP
BACKUP = registry.BACKUP_CODES
ENROL_ATTEMPTS = 3

__all__ = [
    "Enrolment",
    "acknowledge_backup_codes",
    "activate_totp",
    "attempts_left",
    "backup_codes_to_show",
    "pending_enrolment",
    "regenerate_backup_codes",
    "remaining_backup_codes",
    "verify_second_step",
]


def _scope(row) -> lock.Scope:
    """Codes from a first-factor session count for sign-in; from a full session, for step-up."""
    return lock.STEP_UP if row.factor_level >= FULL else lock.SIGN_IN


def _refused(refusal: lock.Refused) -> Failure:
    return fail(Code.BUSY) if refusal.busy else fail(Code.LOCKED, attempts_left=0, retry_at=refusal.locked_until)


def _wrong_code(session: Session, services: Services, user_id: int, scope: lock.Scope, row, action: audit.Action) -> Failure:
    """Settle a wrong code: it counts, its audit entry and (on the last one) the lock's commit together."""
    now = services.clock.now()
    origin = audit.Origin.of_row(row)
    audit.record(session, action, now=now, user_id=user_id, result=audit.Result.FAILED, origin=origin)

    def record_lock() -> None:
        audit.record(session, audit.Action.SECOND_STEP_LOCKED, now=now, user_id=user_id, origin=origin)

    on_lock = record_lock if scope == lock.SIGN_IN else None
    left, until = lock.record_failure(session, user_id, scope, now, services.settings, on_lock=on_lock)
    return fail(Code.WRONG_CODE, attempts_left=left, retry_at=until)


def pending_enrolment(
    services: Services, *, user_id: int, session_id: int, replacing: bool = False
) -> Outcome[Enrolment]:
    """This session's pending authenticator secret; the same one for `totp_pending_lifetime`.

    Args:
        replacing: re-enrolment from a full and fresh session: a new secret alongside the
            active one, which keeps working until the new one is activated.

    Failures: `session_ended`, `not_fresh` (replacing), `already_enrolled` (not replacing,
    and the account has an authenticator: its secret is never shown again).
    """
    for _ in range(ENROL_ATTEMPTS):
        with services.db() as session:
            now = services.clock.now()
            if replacing:
                if (refused := require_fresh(session, now, user_id=user_id, session_id=session_id)) is not None:
                    return refused
            elif registry.factor_of_kind(session, user_id, TOTP) is not None:
                return fail(Code.ALREADY_ENROLLED)
            outcome = KINDS[TOTP].begin_enrolment(session, services, user_id=user_id, session_id=session_id)
            if outcome.ok:
                session.commit()
                return outcome
            session.rollback()
            if outcome.code != Code.BUSY:
                return outcome
            # Two pages of one session asked at once: read the winner's secret.
    return fail(Code.BUSY)


def activate_totp(services: Services, *, user_id: int, session_id: int, code: str) -> Outcome[None]:
    """Activate this session's pending secret with a code from it.

    A first enrolment (from a first-factor session) registers the authenticator and issues
    the backup codes, shown to this session only. A re-enrolment (a full session, which must
    be fresh) replaces the old secret, which stops working at once, and ends the user's other
    sessions. A first-factor session can never replace a secret someone already activated.
    """
    settings = services.settings
    with services.db() as session:
        now = services.clock.now()
        row = live_row(session, now, user_id=user_id, session_id=session_id)
        if row is None:
            return fail(Code.SESSION_ENDED)
        replacing = row.factor_level >= FULL
        if replacing and (refused := require_fresh(session, now, user_id=user_id, session_id=session_id)) is not None:
            return refused
        scope = _scope(row)
        if (refusal := lock.reserve_attempt(session, user_id, scope, now, settings)) is not None:
            return _refused(refusal)
        outcome = KINDS[TOTP].confirm_enrolment(
            session, services, user_id=user_id, session_id=session_id, code=code, replacing=replacing
        )
        if not outcome.ok:
            session.rollback()
            if outcome.code == Code.WRONG_CODE:
                return _wrong_code(session, services, user_id, scope, row, audit.Action.FACTOR_ENROLLED)
            lock.release(session, user_id, scope)  # not a guess: the same code twice, or another session won
            return outcome
        details = {"kind": TOTP, "replaced": replacing}
        audit.record(session, audit.Action.FACTOR_ENROLLED, now=now, user_id=user_id, origin=audit.Origin.of_row(row), details=details)
        if replacing:
            end_other_sessions(session, now, user_id=user_id, row=row)
        else:
            KINDS[BACKUP].begin_enrolment(session, services, user_id=user_id, session_id=session_id)
        session.commit()
        lock.record_success(session, user_id, scope)
        return Ok()


def verify_second_step(
    services: Services,
    *,
    user_id: int,
    session_id: int,
    code: str,
    method: Method = TOTP,
    precondition: Callable[[Session, Any], Failure | None] | None = None,
    on_success: Callable[[Session], None] | None = None,
) -> Outcome[None]:
    """Check a code of one of the methods the journey offers this session, under the second-step lock.

    From a first-factor session the code counts for sign-in; from a full session, for
    step-up (so a password thief's wrong codes never lock the owner's sessions out). A
    valid code that was already used is refused without counting as a failure.
    `precondition(session, row)` may refuse first, in the same transaction (step-up: a full session,
    a wallet signature first); `on_success` runs inside the success's transaction (step-up marks the
    session fresh).
    """
    with services.db() as session:
        now = services.clock.now()
        row = live_row(session, now, user_id=user_id, session_id=session_id)
        if row is None:
            return fail(Code.SESSION_ENDED)
        if precondition is not None and (refused := precondition(session, row)) is not None:
            return refused
        offered = journey.second_factor_methods(registry.usable_kinds(session, user_id), row.first_factor)
        if method not in offered:
            return fail(Code.METHOD_NOT_OFFERED)
        factor = registry.factor_of_kind(session, user_id, method)
        if factor is None:
            return fail(Code.FACTOR_NOT_ENROLLED)
        scope = _scope(row)
        action = audit.Action.STEP_UP if scope == lock.STEP_UP else audit.Action.SECOND_STEP
        if (refusal := lock.reserve_attempt(session, user_id, scope, now, services.settings)) is not None:
            return _refused(refusal)
        accepted = KINDS[method].verify(session, services, factor=factor, code=code) if (code or "").strip() else "wrong"
        if accepted == "replayed":
            session.rollback()
            lock.release(session, user_id, scope)
            return fail(Code.CODE_ALREADY_USED)
        if accepted == "wrong":
            session.rollback()
            return _wrong_code(session, services, user_id, scope, row, action)
        registry.mark_used(session, factor.id, now)
        origin = audit.Origin.of_row(row)
        audit.record(session, action, now=now, user_id=user_id, origin=origin, details={"method": method})
        if method == BACKUP:
            left = remaining(session, user_id)
            audit.record(session, audit.Action.BACKUP_CODE_USED, now=now, user_id=user_id, origin=origin, details={"left": left})
        if on_success is not None:
            on_success(session)
        session.commit()
        lock.record_success(session, user_id, scope)
        return Ok()


def backup_codes_to_show(services: Services, *, user_id: int, session_id: int) -> list[str] | None:
    """The fresh backup codes (formatted) this session may still show, else None."""
    with services.db() as session:
        row = live_row(session, services.clock.now(), user_id=user_id, session_id=session_id)
        return codes_to_show(session, services, user_id=user_id, session_row=row)


def acknowledge_backup_codes(services: Services, *, user_id: int, session_id: int) -> None:
    """The user saved the codes: stop keeping them in readable form."""
    with services.db() as session:
        KINDS[BACKUP].confirm_enrolment(session, services, user_id=user_id, session_id=session_id, code="", replacing=False)
        session.commit()


def regenerate_backup_codes(services: Services, *, user_id: int, session_id: int) -> Outcome[list[str]]:
    """A new set of backup codes, shown to this session; every old one stops working and the
    user's other sessions end. Needs a full and fresh session. Returns the codes formatted."""
    with services.db() as session:
        now = services.clock.now()
        fresh = fresh_row(session, now, user_id=user_id, session_id=session_id)
        if not fresh.ok:
            return fresh
        row = fresh.value
        outcome = KINDS[BACKUP].begin_enrolment(session, services, user_id=user_id, session_id=session_id)
        audit.record(session, audit.Action.BACKUP_CODES_REGENERATED, now=now, user_id=user_id, origin=audit.Origin.of_row(row))
        end_other_sessions(session, now, user_id=user_id, row=row)
        session.commit()
        return outcome


def remaining_backup_codes(services: Services, user_id: int) -> int:
    """How many unused backup codes the user has."""
    with services.db() as session:
        return remaining(session, user_id)


def attempts_left(services: Services, user_id: int, scope: lock.Scope = lock.SIGN_IN) -> int:
    """Second-step attempts left now in `scope` (0 while locked)."""
    with services.db() as session:
        return lock.attempts_left(session, user_id, scope, services.clock.now(), services.settings)
