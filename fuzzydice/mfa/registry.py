"""The registry of second factors: one table (`second_factors`), one small module per kind.

Every kind implements `FactorKind`. Its functions work inside the caller's database
transaction and never commit: the use case (`fuzzydice.mfa.flows`) commits the change,
the sessions it ends and its audit entry together.

A new kind (email code, SMS code, passkey) must provide:
- `kind` (the stored value and the method name the journey offers) and `channel` (what it
  proves possession of: the journey never offers a kind whose channel proved the first step);
- `enrols_alone`: whether an account may hold it as its only second factor;
- `begin_enrolment` / `confirm_enrolment` (a setup secret or code, then proof of it);
- `send_challenge` (kinds that send something, e.g. a code by mail; others refuse);
- `verify`: check a code and use it once (`fuzzydice.db.use_once`), answering ok / wrong / replayed;
and register itself in `KINDS` (`fuzzydice.mfa.kinds`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

import sqlalchemy as sa
from sqlmodel import Session

from fuzzydice.models import BackupCode, SecondFactor
from fuzzydice.outcome import Outcome

if TYPE_CHECKING:
    from fuzzydice.services import Services

Acceptance = Literal["ok", "wrong", "replayed"]
"""What `verify` found: a right code (now used), a wrong one, or a right one already used."""

TOTP = "totp"
BACKUP_CODES = "backup_codes"

table = SecondFactor.__table__


@dataclass(frozen=True)
class Factor:
    """One registered second factor, as the use cases see it."""

    id: int
    user_id: int
    kind: str
    slot: str
    label: str
    created_at: datetime
    last_used_at: datetime | None
    sealed_data: str | None
    counter: int | None


class FactorKind(Protocol):
    """What every kind of second factor implements (see the module docstring)."""

    kind: str
    channel: str
    enrols_alone: bool

    def begin_enrolment(self, session: Session, services: Services, *, user_id: int, session_id: int) -> Outcome[Any]:
        """Start adding this factor for the session (e.g. a pending secret to scan)."""
        ...

    def confirm_enrolment(
        self, session: Session, services: Services, *, user_id: int, session_id: int, code: str, replacing: bool
    ) -> Outcome[Factor]:
        """Prove the new factor works and store it in the registry."""
        ...

    def send_challenge(self, session: Session, services: Services, *, factor: Factor) -> Outcome[None]:
        """Send a code where the kind has one; others answer `method_not_offered`."""
        ...

    def verify(self, session: Session, services: Services, *, factor: Factor, code: str) -> Acceptance:
        """Check `code` against `factor` and use it once."""
        ...


def _factor(row) -> Factor:
    """A row of `second_factors` as a Factor (the dataclass names the table's columns)."""
    return Factor(**row._mapping)


def factors_of(session: Session, user_id: int) -> list[Factor]:
    """Every second factor of `user_id`, oldest first."""
    rows = session.execute(sa.select(table).where(table.c.user_id == user_id).order_by(table.c.id)).all()
    return [_factor(row) for row in rows]


def factor_of_kind(session: Session, user_id: int, kind: str) -> Factor | None:
    """The user's factor of `kind` (the first, for kinds that can be held several times)."""
    row = session.execute(
        sa.select(table).where(table.c.user_id == user_id, table.c.kind == kind).order_by(table.c.id).limit(1)
    ).first()
    return _factor(row) if row is not None else None


def add_factor(
    session: Session, *, user_id: int, kind: str, label: str, now: datetime, sealed_data: str | None = None,
    counter: int | None = None, slot: str = "",
) -> None:
    """Register a factor (raises IntegrityError when the slot is taken: a race another enrolment won)."""
    session.execute(
        sa.insert(table).values(
            user_id=user_id, kind=kind, slot=slot, label=label, created_at=now, sealed_data=sealed_data, counter=counter
        )
    )


def mark_used(session: Session, factor_id: int, now: datetime) -> None:
    """Remember when a factor last served."""
    session.execute(sa.update(table).where(table.c.id == factor_id).values(last_used_at=now))


def usable_kinds_column(user_id) -> sa.ScalarSelect:
    """A column of the kinds of second factor the user `user_id` (a column or a value) can give now,
    comma separated (backup codes only while one is unused): `lookup_session` reads it with the session."""
    codes = BackupCode.__table__
    unused = sa.exists().where(codes.c.user_id == user_id, codes.c.used_at.is_(None))
    return (
        sa.select(sa.func.aggregate_strings(table.c.kind, ","))
        .where(table.c.user_id == user_id, sa.or_(table.c.kind != BACKUP_CODES, unused))
        .scalar_subquery()
    )


def kinds_from(column_value: str | None) -> frozenset[str]:
    """The kinds in a value of `usable_kinds_column`."""
    return frozenset(filter(None, (column_value or "").split(",")))


def usable_kinds(session: Session, user_id: int) -> frozenset[str]:
    """The kinds of second factor `user_id` can give now (backup codes only while one is unused)."""
    return kinds_from(session.execute(sa.select(usable_kinds_column(sa.literal(user_id)))).scalar())
