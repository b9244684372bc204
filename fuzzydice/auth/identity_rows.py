"""Where an account's ways in live: one row of `identities` per email + password and per wallet.

Plain reads and writes on the caller's database session (nothing is committed here):
the use cases (`fuzzydice.auth.identities`, sign-in, registration) decide what goes
into one transaction. An identifier (normalized email, EIP-55 address) leads to one
account only: the table's unique constraint says so, so a race inserts once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from fuzzydice.models import Identity, User

PASSWORD = "password"
WALLET = "wallet"

_table = Identity.__table__
_users = User.__table__


@dataclass(frozen=True)
class IdentityInfo:
    """One way in, as the account's owner sees it (never the password hash)."""

    kind: str
    identifier: str
    """The normalized email or the EIP-55 address."""
    email: str | None
    created_at: datetime
    last_used_at: datetime | None


def password_of(email_normalized: str) -> sa.ColumnElement[bool]:
    """SQL condition on `identities`: the password identity of this email."""
    return sa.and_(_table.c.kind == PASSWORD, _table.c.identifier == email_normalized)


def wallet_of(address: str) -> sa.ColumnElement[bool]:
    """SQL condition on `identities`: the identity of this (EIP-55) wallet."""
    return sa.and_(_table.c.kind == WALLET, _table.c.identifier == address)


def of_kind(kind: str) -> sa.ColumnElement[bool]:
    """SQL condition on `identities`: identities of this kind."""
    return _table.c.kind == kind


def owner(session: Session, condition: sa.ColumnElement[bool]) -> int | None:
    """The account holding the identity that `condition` names, or None."""
    return session.execute(sa.select(_table.c.user_id).where(condition)).scalar_one_or_none()


def exists(session: Session, user_id: int, condition: sa.ColumnElement[bool]) -> bool:
    """Whether the account holds an identity that `condition` names."""
    query = sa.select(_table.c.id).where(_table.c.user_id == user_id, condition).limit(1)
    return session.execute(query).first() is not None


def email_taken(session: Session, email_normalized: str) -> bool:
    """Whether an account signs in with this email."""
    query = sa.select(_table.c.id).where(password_of(email_normalized))
    return session.execute(query.limit(1)).first() is not None


def email_of(session: Session, user_id: int) -> str | None:
    """The email (as typed) of the account's password identity, or None."""
    return session.execute(
        sa.select(_table.c.email).where(_table.c.user_id == user_id, _table.c.kind == PASSWORD)
    ).scalar_one_or_none()


def list_of(session: Session, user_id: int) -> list[IdentityInfo]:
    """Every way in of the account: the password first, then the wallets in the order they were linked."""
    rows = session.execute(
        sa.select(_table.c.kind, _table.c.identifier, _table.c.email, _table.c.created_at, _table.c.last_used_at)
        .where(_table.c.user_id == user_id)
        .order_by(sa.case((_table.c.kind == PASSWORD, 0), else_=1), _table.c.id)
    ).all()
    return [IdentityInfo(r.kind, r.identifier, r.email, r.created_at, r.last_used_at) for r in rows]


def count_of(session: Session, user_id: int) -> int:
    """How many ways in the account has."""
    return session.execute(sa.select(sa.func.count()).select_from(_table).where(_table.c.user_id == user_id)).scalar_one()


def add_password(
    session: Session, *, user_id: int, email: str, email_normalized: str, password_hash: str, now: datetime
) -> None:
    """Insert the account's email + password identity.

    Raises:
        sqlalchemy.exc.IntegrityError: another account has this email (the caller rolls back).
    """
    session.execute(
        sa.insert(_table).values(
            user_id=user_id, kind=PASSWORD, identifier=email_normalized, email=email, password_hash=password_hash,
            created_at=now,
        )
    )


def add_wallet(session: Session, *, user_id: int, address: str, now: datetime) -> None:
    """Insert a wallet identity of the account (`address` in EIP-55 form).

    Raises:
        sqlalchemy.exc.IntegrityError: the wallet belongs to an account already.
    """
    session.execute(sa.insert(_table).values(user_id=user_id, kind=WALLET, identifier=address, created_at=now))


def remove(session: Session, user_id: int, condition: sa.ColumnElement[bool]) -> int:
    """Delete the account's identities that `condition` names; returns how many."""
    return session.execute(sa.delete(_table).where(_table.c.user_id == user_id, condition)).rowcount


def mark_used(session: Session, condition: sa.ColumnElement[bool], now: datetime) -> None:
    """Record that the identity `condition` names signed in just now."""
    session.execute(sa.update(_table).where(condition).values(last_used_at=now))


def lock_account(session: Session, user_id: int) -> bool:
    """Serialize changes of one account's identities; False when the account is gone.

    A no-op write on the user's row: PostgreSQL holds its row lock, SQLite its write
    lock, until the transaction ends. Two concurrent "unlink one of two wallets" thus
    run one after the other, and the second sees the last way in and refuses. Call it
    first in the transaction (SQLite cannot upgrade a read to a write once another
    writer has committed).
    """
    return bool(session.execute(sa.update(_users).where(_users.c.id == user_id).values(id=_users.c.id)).rowcount)
