"""Use cases of the second step: TOTP enrolment and activation, verification, backup codes.

Page states and the JSON API call these. All are synchronous (run them in a
thread from an event loop) and take the clock from `services`.

Whatever is pending belongs to the session that asked for it, never to the user:
a pending authenticator secret and fresh backup codes live on that session's row,
so someone else who signs in with the same password sees neither.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from fuzzydice import audit
from fuzzydice.auth.sessions import FULL, live_row
from fuzzydice.mfa import backup_codes, lock, totp
from fuzzydice.mfa.secret_box import SecretBoxError, open_sealed, seal
from fuzzydice.models import AuthSession, BackupCode, TotpDevice, User
from fuzzydice.services import Services

TOTP_PURPOSE = "totp-secret"
CODES_PURPOSE = "backup-codes-to-show"
Method = Literal["totp", "backup"]

BUSY = "Another code for this account is being checked right now. Try again in a moment."
REPLAYED = "That code was already used. Wait for the next code in your app."
SESSION_ENDED = "Your session has ended. Please sign in again."


class AlreadyEnrolled(Exception):
    """The user has an active authenticator: its secret is never shown again."""


class NoSession(Exception):
    """The session is gone, expired or not this user's."""


@dataclass(frozen=True)
class Enrolment:
    """A pending authenticator secret, as shown for scanning or typing."""

    secret: str
    uri: str

    @property
    def grouped_secret(self) -> str:
        """The secret in groups of four."""
        return totp.group_for_reading(self.secret)


@dataclass(frozen=True)
class SecondStepResult:
    """The outcome of one code; `message` is safe to show as it is."""

    ok: bool
    message: str = ""
    attempts_left: int | None = None
    locked_until: datetime | None = None


def _locked(until: datetime | None, services: Services) -> SecondStepResult:
    if until is None:
        minutes = int(services.settings.second_factor_lock.total_seconds() // 60)
        return SecondStepResult(False, f"Too many wrong codes. Try again in {minutes} minutes.", 0)
    return SecondStepResult(
        False, f"Too many wrong codes. Try again after {until.strftime('%H:%M')} UTC.", 0, locked_until=until
    )


def _wrong_code(left: int, until: datetime | None, services: Services) -> SecondStepResult:
    if left > 0:
        plural = "attempt" if left == 1 else "attempts"
        return SecondStepResult(False, f"That code is not right. {left} {plural} left.", left)
    locked = _locked(until, services)
    return SecondStepResult(False, "That code is not right. " + locked.message, 0, locked_until=until)


def _refused(refusal: lock.Refused, services: Services) -> SecondStepResult:
    return SecondStepResult(False, BUSY) if refusal.busy else _locked(refusal.locked_until, services)


def _device(session: Session, user_id: int) -> TotpDevice | None:
    return session.exec(select(TotpDevice).where(TotpDevice.user_id == user_id)).first()


def _account_name(user: User) -> str:
    return user.email or user.name or f"user {user.id}"


_sessions = AuthSession.__table__


def _scope(row) -> lock.Scope:
    """Codes from a first-factor session count for sign-in; from a full session, for step-up."""
    return lock.STEP_UP if row.factor_level >= FULL else lock.SIGN_IN


def _take_slot(session: Session, services: Services, user_id: int, session_id: int):
    """The live session's row and its lock scope once a slot for one code is taken, or the answer why not."""
    row = live_row(session, services.clock.now(), user_id=user_id, session_id=session_id)
    if row is None:
        return SecondStepResult(False, SESSION_ENDED)
    scope = _scope(row)
    refusal = lock.reserve_attempt(session, user_id, scope, services.clock.now(), services.settings)
    if refusal is not None:
        return _refused(refusal, services)
    return row, scope


def pending_enrolment(services: Services, *, user_id: int, session_id: int, replacing: bool = False) -> Enrolment:
    """This session's pending authenticator secret; the same one for `totp_pending_lifetime`.

    Args:
        replacing: re-enrolment (a full session, after a fresh second factor): a new secret
            alongside the active one, which keeps working until the new one is activated.

    Raises:
        AlreadyEnrolled: TOTP is active for this user and this is not a re-enrolment.
        NoSession: the session is not a live session of this user (or, replacing, not a full one).
    """
    # Two pages of one session asking at once: the one that loses the write reads the winner's secret.
    for _ in range(3):
        enrolment = _pending_enrolment(services, user_id, session_id, replacing)
        if enrolment is not None:
            return enrolment
    raise RuntimeError("the pending enrolment kept changing under concurrent requests")


def _pending_enrolment(services: Services, user_id: int, session_id: int, replacing: bool) -> Enrolment | None:
    """One try of `pending_enrolment`; None when a concurrent request wrote a secret first."""
    settings, now, key = services.settings, services.clock.now(), services.keys.aes_key
    with services.db() as session:
        row = live_row(session, now, user_id=user_id, session_id=session_id)
        if row is None or (replacing and row.factor_level < FULL):
            raise NoSession()
        device = _device(session, user_id)
        if device is not None and device.secret is not None and not replacing:
            raise AlreadyEnrolled()
        user = session.get(User, user_id)
        fresh = (
            row.pending_totp_secret is not None
            and row.pending_totp_created_at is not None
            and now - row.pending_totp_created_at < settings.totp_pending_lifetime
        )
        if fresh:
            try:
                secret = open_sealed(key, row.pending_totp_secret, purpose=TOTP_PURPOSE, user_id=user_id).decode()
                return Enrolment(secret, totp.provisioning_uri(secret, _account_name(user), settings))
            except SecretBoxError:
                pass  # unreadable: replace it below
        secret = totp.new_secret()
        sealed = seal(key, secret.encode(), purpose=TOTP_PURPOSE, user_id=user_id)
        # Replace only what was read, so a secret another page of this session has just shown stays.
        replaced = session.execute(
            sa.update(_sessions)
            .where(
                _sessions.c.id == session_id,
                _sessions.c.pending_totp_secret.is_not_distinct_from(row.pending_totp_secret),
            )
            .values(pending_totp_secret=sealed, pending_totp_created_at=now)
        ).rowcount
        if replaced != 1:
            session.rollback()
            return None
        session.commit()
        return Enrolment(secret, totp.provisioning_uri(secret, _account_name(user), settings))


def _issue_backup_codes(session: Session, services: Services, user_id: int, session_id: int) -> list[str]:
    """Replace the user's backup codes with a new set, kept sealed for this session until acknowledged."""
    now = services.clock.now()
    codes = backup_codes.new_codes(services.settings.backup_code_count)
    table = BackupCode.__table__
    session.execute(sa.delete(table).where(table.c.user_id == user_id))
    session.execute(
        sa.insert(table),
        [
            {"user_id": user_id, "code_hash": backup_codes.code_hash(services.keys.signing_key, code), "created_at": now}
            for code in codes
        ],
    )
    sealed = seal(services.keys.aes_key, json.dumps(codes).encode(), purpose=CODES_PURPOSE, user_id=user_id)
    session.execute(sa.update(_sessions).where(_sessions.c.id == session_id).values(backup_codes_to_show=sealed))
    return codes


def activate_totp(services: Services, *, user_id: int, session_id: int, code: str) -> SecondStepResult:
    """Activate this session's pending secret with a code from it.

    A first enrolment (from a first-factor session) issues the backup codes, shown to this
    session only; a re-enrolment (a full session; freshness is checked by the caller) replaces
    the old secret, which stops working at once (the backup codes stay). A first-factor
    session can never replace a secret someone already activated.
    """
    settings, now = services.settings, services.clock.now()
    with services.db() as session:
        taken = _take_slot(session, services, user_id, session_id)
        if isinstance(taken, SecondStepResult):
            return taken
        row, scope = taken
        step = None
        if row.pending_totp_secret is not None:
            try:
                secret = open_sealed(services.keys.aes_key, row.pending_totp_secret, purpose=TOTP_PURPOSE, user_id=user_id)
                step = totp.matching_step(secret.decode(), code, now, settings)
            except SecretBoxError:
                step = None
        if step is None:
            if row.pending_totp_secret is None and _already_accepted(session, services, user_id, code):
                lock.release(session, user_id, scope)  # the same code again (a second tab, a resent request)
                return SecondStepResult(False, REPLAYED)
            return _failure(session, services, user_id, scope, row.ip)
        # Single use: only the request that clears this very secret goes on.
        taken = session.execute(
            sa.update(_sessions)
            .where(_sessions.c.id == session_id, _sessions.c.pending_totp_secret == row.pending_totp_secret)
            .values(pending_totp_secret=None, pending_totp_created_at=None)
        ).rowcount
        if taken != 1:  # another tab of this session activated it first
            session.rollback()
            lock.release(session, user_id, scope)
            return SecondStepResult(False, REPLAYED)
        devices = TotpDevice.__table__
        values = dict(secret=row.pending_totp_secret, confirmed_at=now, last_step=step)
        if scope == lock.SIGN_IN:
            moved = _activate_first(session, user_id, values)
        else:
            moved = session.execute(
                sa.update(devices).where(devices.c.user_id == user_id, devices.c.secret.is_not(None)).values(**values)
            ).rowcount
        if moved != 1:  # another session enrolled first (or there is nothing to replace)
            session.rollback()
            lock.release(session, user_id, scope)
            return SecondStepResult(False, "This account already has an authenticator. Sign in again with it.")
        if scope == lock.SIGN_IN:
            users = User.__table__
            session.execute(sa.update(users).where(users.c.id == user_id).values(second_factor_at=now))
            _issue_backup_codes(session, services, user_id, session_id)
        session.commit()
        lock.record_success(session, user_id, scope)
        return SecondStepResult(True)


def _already_accepted(session: Session, services: Services, user_id: int, code: str) -> bool:
    """Whether `code` is a code of the active secret at a step that was already accepted."""
    device = _device(session, user_id)
    if device is None or device.secret is None or device.last_step is None:
        return False
    try:
        secret = open_sealed(services.keys.aes_key, device.secret, purpose=TOTP_PURPOSE, user_id=user_id).decode()
    except SecretBoxError:
        return False
    step = totp.matching_step(secret, code, services.clock.now(), services.settings)
    return step is not None and step <= device.last_step


def _activate_first(session: Session, user_id: int, values: dict) -> int:
    """Store the first authenticator of `user_id`; 0 when one is already active."""
    devices = TotpDevice.__table__
    moved = session.execute(
        sa.update(devices).where(devices.c.user_id == user_id, devices.c.secret.is_(None)).values(**values)
    ).rowcount
    if moved:
        return moved
    try:
        with session.begin_nested():
            session.execute(sa.insert(devices).values(user_id=user_id, **values))
        return 1
    except IntegrityError:  # a device row exists with an active secret
        return 0


def _failure(session: Session, services: Services, user_id: int, scope: lock.Scope, ip: str | None) -> SecondStepResult:
    """Settle a wrong code; a sign-in lock is recorded for the owner to see (in the lock's transaction)."""
    now = services.clock.now()

    def record_lock() -> None:
        audit.record(session, audit.Action.SECOND_STEP_LOCKED, user_id=user_id, now=now, origin=audit.Origin(ip=ip))

    on_lock = record_lock if scope == lock.SIGN_IN else None
    left, until = lock.record_failure(session, user_id, scope, now, services.settings, on_lock=on_lock)
    return _wrong_code(left, until, services)


Acceptance = Literal["ok", "wrong", "replayed"]


def _accept_totp(session: Session, services: Services, user_id: int, code: str) -> Acceptance:
    device = _device(session, user_id)
    if device is None or device.secret is None:
        return "wrong"
    try:
        secret = open_sealed(services.keys.aes_key, device.secret, purpose=TOTP_PURPOSE, user_id=user_id).decode()
    except SecretBoxError:
        return "wrong"  # fail closed: a tampered or moved secret accepts nothing
    step = totp.matching_step(secret, code, services.clock.now(), services.settings)
    if step is None:
        return "wrong"
    table = TotpDevice.__table__
    # Race-free replay guard: only one request can move last_step past this step.
    accepted = session.execute(
        sa.update(table)
        .where(
            table.c.user_id == user_id,
            table.c.secret == device.secret,
            sa.or_(table.c.last_step.is_(None), table.c.last_step < step),
        )
        .values(last_step=step)
    ).rowcount
    session.commit()
    return "ok" if accepted == 1 else "replayed"


def _accept_backup_code(session: Session, services: Services, user_id: int, typed: str) -> Acceptance:
    code = backup_codes.normalize(typed)
    if code is None:
        return "wrong"
    table = BackupCode.__table__
    used = session.execute(
        sa.update(table)
        .where(
            table.c.user_id == user_id,
            table.c.code_hash == backup_codes.code_hash(services.keys.signing_key, code),
            table.c.used_at.is_(None),
        )
        .values(used_at=services.clock.now())
    ).rowcount
    session.commit()
    return "ok" if used == 1 else "wrong"


def verify_second_step(
    services: Services, *, user_id: int, session_id: int, code: str, method: Method = "totp"
) -> SecondStepResult:
    """Check a TOTP or backup code under the second-step lock of the session's scope.

    From a first-factor session the code counts for sign-in; from a full session, for
    step-up (so a password thief's wrong codes never lock the owner's sessions out).
    A valid TOTP code that was already used is refused without counting as a failure.
    """
    with services.db() as session:
        taken = _take_slot(session, services, user_id, session_id)
        if isinstance(taken, SecondStepResult):
            return taken
        row, scope = taken
        accept = _accept_backup_code if method == "backup" else _accept_totp
        outcome: Acceptance = accept(session, services, user_id, code) if (code or "").strip() else "wrong"
        if outcome == "replayed":
            lock.release(session, user_id, scope)
            return SecondStepResult(False, REPLAYED)
        if outcome == "wrong":
            return _failure(session, services, user_id, scope, row.ip)
        lock.record_success(session, user_id, scope)
        return SecondStepResult(True)


def backup_codes_to_show(services: Services, *, user_id: int, session_id: int) -> list[str] | None:
    """The fresh backup codes (formatted) this session may still show, else None."""
    with services.db() as session:
        row = live_row(session, services.clock.now(), user_id=user_id, session_id=session_id)
        if row is None or row.backup_codes_to_show is None:
            return None
        try:
            raw = open_sealed(services.keys.aes_key, row.backup_codes_to_show, purpose=CODES_PURPOSE, user_id=user_id)
        except SecretBoxError:
            return None
        return [backup_codes.display(code) for code in json.loads(raw)]


def acknowledge_backup_codes(services: Services, *, user_id: int, session_id: int) -> None:
    """The user saved the codes: stop keeping them in readable form."""
    with services.db() as session:
        session.execute(
            sa.update(_sessions)
            .where(_sessions.c.id == session_id, _sessions.c.user_id == user_id)
            .values(backup_codes_to_show=None)
        )
        session.commit()


def regenerate_backup_codes(services: Services, *, user_id: int, session_id: int) -> list[str]:
    """A new set of backup codes (shown to this session); every old one stops working. Returns them formatted."""
    with services.db() as session:
        if live_row(session, services.clock.now(), user_id=user_id, session_id=session_id) is None:
            raise NoSession()
        codes = _issue_backup_codes(session, services, user_id, session_id)
        session.commit()
        return [backup_codes.display(code) for code in codes]


def remaining_backup_codes(services: Services, user_id: int) -> int:
    """How many unused backup codes the user has."""
    with services.db() as session:
        table = BackupCode.__table__
        return session.execute(
            sa.select(sa.func.count()).where(table.c.user_id == user_id, table.c.used_at.is_(None))
        ).scalar_one()


def attempts_left(services: Services, user_id: int, scope: lock.Scope = lock.SIGN_IN) -> int:
    """Second-step attempts left now in `scope` (0 while locked)."""
    with services.db() as session:
        return lock.attempts_left(session, user_id, scope, services.clock.now(), services.settings)
