"""Backup codes as a kind of second factor: a set of single-use codes, kept as keyed hashes.

They come with the first authenticator (never an account's only factor). A fresh set
is shown to the session that made it, sealed on its row, until the user says it is saved.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from sqlmodel import Session

from fuzzydice.db import use_once
from fuzzydice.mfa import backup_codes, registry
from fuzzydice.mfa.secret_box import SecretBoxError, open_sealed, seal
from fuzzydice.models import AuthSession, BackupCode
from fuzzydice.outcome import Code, Ok, Outcome, fail
from fuzzydice.services import Services

CODES_PURPOSE = "backup-codes-to-show"
LABEL = "Backup codes"

_codes = BackupCode.__table__
_sessions = AuthSession.__table__


def remaining(session: Session, user_id: int) -> int:
    """How many unused backup codes the user has."""
    return session.execute(
        sa.select(sa.func.count()).where(_codes.c.user_id == user_id, _codes.c.used_at.is_(None))
    ).scalar_one()


def codes_to_show(session: Session, services: Services, *, user_id: int, session_row) -> list[str] | None:
    """The fresh codes (formatted) a session may still show, else None."""
    if session_row is None or session_row.backup_codes_to_show is None:
        return None
    try:
        raw = open_sealed(services.keys.aes_key, session_row.backup_codes_to_show, purpose=CODES_PURPOSE, user_id=user_id)
    except SecretBoxError:
        return None
    return [backup_codes.display(code) for code in json.loads(raw)]


class BackupCodesKind:
    """See `fuzzydice.mfa.registry.FactorKind`."""

    kind = registry.BACKUP_CODES
    channel = "backup"
    enrols_alone = False

    def begin_enrolment(self, session: Session, services: Services, *, user_id: int, session_id: int) -> Outcome[list[str]]:
        """A new set replacing every old code, sealed for this session to show; returns them formatted."""
        now = services.clock.now()
        codes = backup_codes.new_codes(services.settings.backup_code_count)
        session.execute(sa.delete(_codes).where(_codes.c.user_id == user_id))
        session.execute(
            sa.insert(_codes),
            [
                {"user_id": user_id, "code_hash": backup_codes.code_hash(services.keys.signing_key, code), "created_at": now}
                for code in codes
            ],
        )
        sealed = seal(services.keys.aes_key, json.dumps(codes).encode(), purpose=CODES_PURPOSE, user_id=user_id)
        session.execute(sa.update(_sessions).where(_sessions.c.id == session_id).values(backup_codes_to_show=sealed))
        factor = registry.factor_of_kind(session, user_id, self.kind)
        if factor is None:
            registry.add_factor(session, user_id=user_id, kind=self.kind, label=LABEL, now=now)
        else:
            session.execute(
                sa.update(registry.table).where(registry.table.c.id == factor.id).values(created_at=now, last_used_at=None)
            )
        return Ok([backup_codes.display(code) for code in codes])

    def confirm_enrolment(
        self, session: Session, services: Services, *, user_id: int, session_id: int, code: str, replacing: bool
    ) -> Outcome[None]:
        """The user saved the codes: the session stops keeping them readable."""
        session.execute(
            sa.update(_sessions)
            .where(_sessions.c.id == session_id, _sessions.c.user_id == user_id)
            .values(backup_codes_to_show=None)
        )
        return Ok()

    def send_challenge(self, session: Session, services: Services, *, factor: registry.Factor) -> Outcome[None]:
        """The user holds the codes: nothing to send."""
        return fail(Code.METHOD_NOT_OFFERED)

    def verify(self, session: Session, services: Services, *, factor: registry.Factor, code: str) -> registry.Acceptance:
        """One unused code of the set, used up now (race-free)."""
        normalized = backup_codes.normalize(code)
        if normalized is None:
            return "wrong"
        used = use_once(
            session,
            _codes,
            _codes.c.user_id == factor.user_id,
            _codes.c.code_hash == backup_codes.code_hash(services.keys.signing_key, normalized),
            _codes.c.used_at.is_(None),
            values=dict(used_at=services.clock.now()),
        )
        return "ok" if used else "wrong"
