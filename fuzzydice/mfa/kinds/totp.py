"""The authenticator app (TOTP, RFC 6238) as a kind of second factor.

Enrolment keeps a pending secret on the session that asked for it (sealed), never on
the user, so someone else who signs in with the same password never sees it. The
registry row keeps the sealed secret and the last time step accepted (the replay guard).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from fuzzydice.auth import identity_rows
from fuzzydice.auth.sessions import live_row
from fuzzydice.db import use_once
from fuzzydice.mfa import registry, totp
from fuzzydice.mfa.secret_box import SecretBoxError, open_sealed, seal
from fuzzydice.models import AuthSession, User
from fuzzydice.outcome import Code, Ok, Outcome, fail
from fuzzydice.services import Services

SECRET_PURPOSE = "totp-secret"
LABEL = "Authenticator app"

_sessions = AuthSession.__table__


@dataclass(frozen=True)
class Enrolment:
    """A pending authenticator secret, as shown for scanning or typing."""

    secret: str
    uri: str

    @property
    def grouped_secret(self) -> str:
        """The secret in groups of four."""
        return totp.group_for_reading(self.secret)


def _account_name(session: Session, user: User | None) -> str:
    if user is None:
        return "user"
    return identity_rows.email_of(session, user.id) or user.name or f"user {user.id}"


def open_secret(services: Services, sealed: str | None, user_id: int) -> str | None:
    """The plain secret, or None when there is none or it does not open (fail closed)."""
    if sealed is None:
        return None
    try:
        return open_sealed(services.keys.aes_key, sealed, purpose=SECRET_PURPOSE, user_id=user_id).decode()
    except SecretBoxError:
        return None


class TotpKind:
    """See `fuzzydice.mfa.registry.FactorKind`."""

    kind = registry.TOTP
    channel = "authenticator"
    enrols_alone = True

    def begin_enrolment(self, session: Session, services: Services, *, user_id: int, session_id: int) -> Outcome[Enrolment]:
        """This session's pending secret; the same one for `totp_pending_lifetime`.

        `busy` when another page of this session wrote a secret at the same moment (read it again).
        """
        settings, now = services.settings, services.clock.now()
        row = live_row(session, now, user_id=user_id, session_id=session_id)
        if row is None:
            return fail(Code.SESSION_ENDED)
        user = session.get(User, user_id)
        fresh = row.pending_totp_created_at is not None and now - row.pending_totp_created_at < settings.totp_pending_lifetime
        if fresh and (secret := open_secret(services, row.pending_totp_secret, user_id)) is not None:
            return Ok(Enrolment(secret, totp.provisioning_uri(secret, _account_name(session, user), settings)))
        secret = totp.new_secret()
        sealed = seal(services.keys.aes_key, secret.encode(), purpose=SECRET_PURPOSE, user_id=user_id)
        # Replace only what was read, so a secret another page of this session has just shown stays.
        if not use_once(
            session,
            _sessions,
            _sessions.c.id == session_id,
            _sessions.c.pending_totp_secret.is_not_distinct_from(row.pending_totp_secret),
            values=dict(pending_totp_secret=sealed, pending_totp_created_at=now),
        ):
            return fail(Code.BUSY)
        return Ok(Enrolment(secret, totp.provisioning_uri(secret, _account_name(session, user), settings)))

    def confirm_enrolment(
        self, session: Session, services: Services, *, user_id: int, session_id: int, code: str, replacing: bool
    ) -> Outcome[None]:
        """Activate this session's pending secret with a code from it.

        A first enrolment adds the registry row; a re-enrolment replaces the secret of the
        existing row (the old one stops working at once). `already_enrolled` when another
        session enrolled first (or there is nothing to replace); `code_already_used` for the
        same code again after this session's secret was activated.
        """
        now = services.clock.now()
        row = live_row(session, now, user_id=user_id, session_id=session_id)
        if row is None:
            return fail(Code.SESSION_ENDED)
        secret = open_secret(services, row.pending_totp_secret, user_id)
        step = totp.matching_step(secret, code, now, services.settings) if secret else None
        if step is None:
            if row.pending_totp_secret is None and self._already_accepted(session, services, user_id, code):
                return fail(Code.CODE_ALREADY_USED)  # the same code again (a second tab, a resent request)
            return fail(Code.WRONG_CODE)
        # Single use: only the request that clears this very secret goes on.
        if not use_once(
            session,
            _sessions,
            _sessions.c.id == session_id,
            _sessions.c.pending_totp_secret == row.pending_totp_secret,
            values=dict(pending_totp_secret=None, pending_totp_created_at=None),
        ):
            return fail(Code.CODE_ALREADY_USED)  # another tab of this session activated it first
        if replacing:
            moved = session.execute(
                sa.update(registry.table)
                .where(registry.table.c.user_id == user_id, registry.table.c.kind == self.kind)
                .values(sealed_data=row.pending_totp_secret, counter=step, created_at=now, last_used_at=now)
            ).rowcount
            return Ok() if moved == 1 else fail(Code.ALREADY_ENROLLED)
        try:
            with session.begin_nested():
                registry.add_factor(
                    session, user_id=user_id, kind=self.kind, label=LABEL, now=now,
                    sealed_data=row.pending_totp_secret, counter=step,
                )
        except IntegrityError:  # another session of this user enrolled first
            return fail(Code.ALREADY_ENROLLED)
        return Ok()

    def send_challenge(self, session: Session, services: Services, *, factor: registry.Factor) -> Outcome[None]:
        """The app shows its own codes: nothing to send."""
        return fail(Code.METHOD_NOT_OFFERED)

    def verify(self, session: Session, services: Services, *, factor: registry.Factor, code: str) -> registry.Acceptance:
        """A code of the stored secret at a step later than the last one accepted (used once, race-free)."""
        secret = open_secret(services, factor.sealed_data, factor.user_id)
        if secret is None:
            return "wrong"  # fail closed: a tampered or moved secret accepts nothing
        step = totp.matching_step(secret, code, services.clock.now(), services.settings)
        if step is None:
            return "wrong"
        table = registry.table
        used = use_once(
            session,
            table,
            table.c.id == factor.id,
            table.c.sealed_data == factor.sealed_data,
            sa.or_(table.c.counter.is_(None), table.c.counter < step),
            values=dict(counter=step),
        )
        return "ok" if used else "replayed"

    def _already_accepted(self, session: Session, services: Services, user_id: int, code: str) -> bool:
        """Whether `code` is a code of the active secret at a step that was already accepted."""
        factor = registry.factor_of_kind(session, user_id, self.kind)
        if factor is None or factor.counter is None:
            return False
        secret = open_secret(services, factor.sealed_data, user_id)
        step = totp.matching_step(secret, code, services.clock.now(), services.settings) if secret else None
        return step is not None and step <= factor.counter
