"""Use cases of the second step: TOTP enrolment and activation, verification, backup codes.

Page states and the JSON API call these. All are synchronous (run them in a
thread from an event loop) and take the clock from `services`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from fuzzydice.mfa import backup_codes, lock, totp
from fuzzydice.mfa.secret_box import SecretBoxError, open_sealed, seal
from fuzzydice.models import BackupCode, TotpDevice, User
from fuzzydice.services import Services

TOTP_PURPOSE = "totp-secret"
CODES_PURPOSE = "backup-codes-to-show"
Method = Literal["totp", "backup"]


class AlreadyEnrolled(Exception):
    """The user has an active authenticator: its secret is never shown again."""


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


def _wrong_code(left: int, services: Services) -> SecondStepResult:
    if left > 0:
        plural = "attempt" if left == 1 else "attempts"
        return SecondStepResult(False, f"That code is not right. {left} {plural} left.", left)
    minutes = int(services.settings.second_factor_lock.total_seconds() // 60)
    return SecondStepResult(
        False, f"That code is not right. No attempts left: try again in {minutes} minutes.", 0
    )


def _device(session: Session, user_id: int) -> TotpDevice | None:
    return session.exec(select(TotpDevice).where(TotpDevice.user_id == user_id)).first()


def _account_name(user: User) -> str:
    return user.email or user.name or f"user {user.id}"


def pending_enrolment(services: Services, user_id: int, *, replacing: bool = False) -> Enrolment:
    """The user's pending authenticator secret; the same one for `totp_pending_lifetime`.

    Args:
        replacing: re-enrolment (after a fresh second factor): a new secret alongside the active one,
            which keeps working until the new one is activated.

    Raises:
        AlreadyEnrolled: TOTP is active for this user and this is not a re-enrolment.
    """
    # Two pages asking at once: the one that loses the write reads the winner's secret.
    for _ in range(3):
        enrolment = _pending_enrolment(services, user_id, replacing)
        if enrolment is not None:
            return enrolment
    raise RuntimeError("the pending enrolment kept changing under concurrent requests")


def _pending_enrolment(services: Services, user_id: int, replacing: bool) -> Enrolment | None:
    """One try of `pending_enrolment`; None when a concurrent request wrote a secret first."""
    settings, now, key = services.settings, services.clock.now(), services.keys.aes_key
    with services.db() as session:
        user = session.get(User, user_id)
        device = _device(session, user_id)
        if device is not None and device.secret is not None and not replacing:
            raise AlreadyEnrolled()
        fresh = (
            device is not None
            and device.pending_secret is not None
            and device.pending_created_at is not None
            and now - device.pending_created_at < settings.totp_pending_lifetime
        )
        if fresh:
            try:
                secret = open_sealed(key, device.pending_secret, purpose=TOTP_PURPOSE, user_id=user_id).decode()
                return Enrolment(secret, totp.provisioning_uri(secret, _account_name(user), settings))
            except SecretBoxError:
                pass  # unreadable: replace it below
        secret = totp.new_secret()
        sealed = seal(key, secret.encode(), purpose=TOTP_PURPOSE, user_id=user_id)
        table = TotpDevice.__table__
        if device is None:
            try:
                session.execute(sa.insert(table).values(user_id=user_id, pending_secret=sealed, pending_created_at=now))
            except IntegrityError:  # another request created the row first
                session.rollback()
                return None
        else:
            # Replace only what was read, so a secret another page has just shown stays.
            replaced = session.execute(
                sa.update(table)
                .where(
                    table.c.user_id == user_id,
                    table.c.secret.is_not_distinct_from(device.secret),
                    table.c.pending_secret.is_not_distinct_from(device.pending_secret),
                )
                .values(pending_secret=sealed, pending_created_at=now)
            ).rowcount
            if replaced != 1:
                session.rollback()
                return None
        session.commit()
        return Enrolment(secret, totp.provisioning_uri(secret, _account_name(user), settings))


def _issue_backup_codes(session: Session, services: Services, user_id: int) -> list[str]:
    """Replace the user's backup codes with a new set; keep them sealed until acknowledged."""
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
    users = User.__table__
    session.execute(sa.update(users).where(users.c.id == user_id).values(backup_codes_to_show=sealed))
    return codes


def activate_totp(services: Services, user_id: int, code: str) -> SecondStepResult:
    """Activate the pending secret with a code from it.

    A first enrolment issues the backup codes; a re-enrolment replaces the old secret,
    which stops working at once (the backup codes stay).
    """
    settings, now = services.settings, services.clock.now()
    with services.db() as session:
        taken = lock.reserve_attempt(session, user_id, now, settings)
        if taken is None:
            return _wrong_code(0, services)
        device = _device(session, user_id)
        step = None
        if device is not None and device.pending_secret is not None:
            try:
                secret = open_sealed(services.keys.aes_key, device.pending_secret, purpose=TOTP_PURPOSE, user_id=user_id)
                step = totp.matching_step(secret.decode(), code, now, settings)
            except SecretBoxError:
                step = None
        if step is None:
            return _wrong_code(lock.record_failure(session, user_id, taken, now, settings), services)
        table = TotpDevice.__table__
        moved = session.execute(
            sa.update(table)
            .where(table.c.user_id == user_id, table.c.pending_secret == device.pending_secret)
            .values(secret=device.pending_secret, confirmed_at=now, last_step=step, pending_secret=None, pending_created_at=None)
        ).rowcount
        if moved != 1:  # another tab activated first
            session.rollback()
            return _wrong_code(lock.record_failure(session, user_id, taken, now, settings), services)
        users = User.__table__
        first_enrolment = session.get(User, user_id).second_factor_at is None
        if first_enrolment:
            session.execute(sa.update(users).where(users.c.id == user_id).values(second_factor_at=now))
            _issue_backup_codes(session, services, user_id)
        session.commit()
        lock.record_success(session, user_id)
        return SecondStepResult(True)


def _accept_totp(session: Session, services: Services, user_id: int, code: str) -> bool:
    device = _device(session, user_id)
    if device is None or device.secret is None:
        return False
    try:
        secret = open_sealed(services.keys.aes_key, device.secret, purpose=TOTP_PURPOSE, user_id=user_id).decode()
    except SecretBoxError:
        return False  # fail closed: a tampered or moved secret accepts nothing
    step = totp.matching_step(secret, code, services.clock.now(), services.settings)
    if step is None:
        return False
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
    return accepted == 1


def _accept_backup_code(session: Session, services: Services, user_id: int, typed: str) -> bool:
    code = backup_codes.normalize(typed)
    if code is None:
        return False
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
    return used == 1


def verify_second_step(services: Services, user_id: int, code: str, method: Method = "totp") -> SecondStepResult:
    """Check a TOTP or backup code for sign-in, under the second-step lock."""
    settings, now = services.settings, services.clock.now()
    with services.db() as session:
        taken = lock.reserve_attempt(session, user_id, now, settings)
        if taken is None:
            return _wrong_code(0, services)
        accept = _accept_backup_code if method == "backup" else _accept_totp
        if not (code or "").strip() or not accept(session, services, user_id, code):
            return _wrong_code(lock.record_failure(session, user_id, taken, now, settings), services)
        lock.record_success(session, user_id)
        return SecondStepResult(True)


def backup_codes_to_show(services: Services, user_id: int) -> list[str] | None:
    """The fresh backup codes (formatted) until the user confirms saving them, else None."""
    with services.db() as session:
        user = session.get(User, user_id)
        if user is None or user.backup_codes_to_show is None:
            return None
        try:
            raw = open_sealed(services.keys.aes_key, user.backup_codes_to_show, purpose=CODES_PURPOSE, user_id=user_id)
        except SecretBoxError:
            return None
        return [backup_codes.display(code) for code in json.loads(raw)]


def acknowledge_backup_codes(services: Services, user_id: int) -> None:
    """The user saved the codes: stop keeping them in readable form."""
    with services.db() as session:
        users = User.__table__
        session.execute(sa.update(users).where(users.c.id == user_id).values(backup_codes_to_show=None))
        session.commit()


def regenerate_backup_codes(services: Services, user_id: int) -> list[str]:
    """A new set of backup codes; every old one stops working. Returns them formatted."""
    with services.db() as session:
        codes = _issue_backup_codes(session, services, user_id)
        session.commit()
        return [backup_codes.display(code) for code in codes]


def remaining_backup_codes(services: Services, user_id: int) -> int:
    """How many unused backup codes the user has."""
    with services.db() as session:
        table = BackupCode.__table__
        return session.execute(
            sa.select(sa.func.count()).where(table.c.user_id == user_id, table.c.used_at.is_(None))
        ).scalar_one()


def attempts_left(services: Services, user_id: int) -> int:
    """Second-step attempts left now (0 while locked)."""
    with services.db() as session:
        return lock.attempts_left(session, user_id, services.clock.now(), services.settings)
