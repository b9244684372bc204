"""The second-step lock: failures of every second factor of an account count together, per scope.

Scopes keep an attacker who only has the password from locking the owner's own
signed-in sessions out: `sign_in` counts the second step after a first factor,
`step_up` counts full sessions confirming a sensitive change. Each scope allows
`second_factor_max_failures` wrong codes per window, then locks for `second_factor_lock`.

Every code first reserves a slot with one atomic UPDATE (`failures + in_flight < max`),
so however many requests race, no more than the maximum of codes are ever checked
without a success. A code in flight holds its slot until it is settled: a failure
moves it to `failures` (the last one locks), a success clears the failures but not
the slots other codes still hold, and a valid code that lost a replay race gives its
slot back without counting (a double submission must not lock the owner). Attempts
during a lock reserve nothing, so they do not extend it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from fuzzydice.models import SecondFactorLock
from fuzzydice.settings import Settings

Scope = Literal["sign_in", "step_up"]
SIGN_IN: Scope = "sign_in"
STEP_UP: Scope = "step_up"

_table = SecondFactorLock.__table__


@dataclass(frozen=True)
class Refused:
    """No slot was taken: locked until `locked_until`, or every slot is held by a code in flight (`busy`)."""

    locked_until: datetime | None = None

    @property
    def busy(self) -> bool:
        """Other codes of this account are being checked right now; nothing is locked."""
        return self.locked_until is None


def _key(user_id: int, scope: Scope):
    return sa.and_(_table.c.user_id == user_id, _table.c.scope == scope)


def _ensure_row(session: Session, user_id: int, scope: Scope, now: datetime) -> None:
    exists = session.execute(sa.select(_table.c.user_id).where(_key(user_id, scope))).first()
    if exists is None:
        try:
            with session.begin_nested():
                session.execute(
                    sa.insert(_table).values(user_id=user_id, scope=scope, failures=0, in_flight=0, window_started_at=now)
                )
        except IntegrityError:
            pass  # another request created it


def reserve_attempt(session: Session, user_id: int, scope: Scope, now: datetime, settings: Settings) -> Refused | None:
    """Take one slot for a code; None when taken, else why not (committed either way)."""
    _ensure_row(session, user_id, scope, now)
    # A window or a lock that has run out starts afresh (codes in flight keep their slots).
    # With no failure counted the window opens now, at the first failure: otherwise it stays
    # anchored at an earlier success and failures minutes apart fall into different windows.
    # Slots still held from a window that ran out belong to requests that died mid-check.
    over = sa.or_(_table.c.window_started_at <= now - settings.second_factor_failure_window, _table.c.locked_until <= now)
    session.execute(
        sa.update(_table)
        .where(
            _key(user_id, scope),
            sa.or_(sa.and_(_table.c.locked_until.is_(None), sa.or_(_table.c.failures == 0, over)), _table.c.locked_until <= now),
        )
        .values(
            failures=0,
            window_started_at=now,
            locked_until=None,
            in_flight=sa.case((over, 0), else_=_table.c.in_flight),
        )
    )
    taken = session.execute(
        sa.update(_table)
        .where(
            _key(user_id, scope),
            _table.c.failures + _table.c.in_flight < settings.second_factor_max_failures,
            _table.c.locked_until.is_(None),
        )
        .values(in_flight=_table.c.in_flight + 1)
        .returning(_table.c.in_flight)
    ).scalar_one_or_none()
    locked_until = None
    if taken is None:
        locked_until = session.execute(sa.select(_table.c.locked_until).where(_key(user_id, scope))).scalar_one_or_none()
    session.commit()
    return None if taken is not None else Refused(locked_until=locked_until)


_release = sa.case((_table.c.in_flight > 0, _table.c.in_flight - 1), else_=0)


def record_failure(
    session: Session,
    user_id: int,
    scope: Scope,
    now: datetime,
    settings: Settings,
    on_lock: Callable[[], None] | None = None,
) -> tuple[int, datetime | None]:
    """Settle a slot as a failure; the last one locks. Returns (attempts left, locked until).

    `on_lock` runs when this failure set the lock, inside the same transaction (its audit entry).
    """
    failures = session.execute(
        sa.update(_table)
        .where(_key(user_id, scope))
        .values(in_flight=_release, failures=_table.c.failures + 1)
        .returning(_table.c.failures)
    ).scalar_one()
    left = max(0, settings.second_factor_max_failures - failures)
    locked_until = None
    if left == 0:
        locked = session.execute(
            sa.update(_table)
            .where(_key(user_id, scope), _table.c.locked_until.is_(None))
            .values(locked_until=now + settings.second_factor_lock)
        ).rowcount
        if locked and on_lock is not None:
            on_lock()
        locked_until = session.execute(sa.select(_table.c.locked_until).where(_key(user_id, scope))).scalar_one()
    session.commit()
    return left, locked_until


def record_success(session: Session, user_id: int, scope: Scope) -> None:
    """Settle a slot as a success: the failures are forgiven; codes still in flight keep their slots."""
    session.execute(sa.update(_table).where(_key(user_id, scope)).values(in_flight=_release, failures=0, locked_until=None))
    session.commit()


def release(session: Session, user_id: int, scope: Scope) -> None:
    """Give a slot back uncounted (a valid code that lost the race to its own twin)."""
    session.execute(sa.update(_table).where(_key(user_id, scope)).values(in_flight=_release))
    session.commit()


def attempts_left(session: Session, user_id: int, scope: Scope, now: datetime, settings: Settings) -> int:
    """Attempts left right now (0 while locked); does not reserve anything."""
    row = session.execute(sa.select(_table).where(_key(user_id, scope))).first()
    if row is None:
        return settings.second_factor_max_failures
    if row.locked_until is not None:
        return 0 if row.locked_until > now else settings.second_factor_max_failures
    if row.window_started_at <= now - settings.second_factor_failure_window:
        return settings.second_factor_max_failures
    return max(0, settings.second_factor_max_failures - row.failures)


def locked_until(session: Session, user_id: int, scope: Scope, now: datetime) -> datetime | None:
    """When the lock of this scope lifts, or None when it is not locked."""
    until = session.execute(sa.select(_table.c.locked_until).where(_key(user_id, scope))).scalar_one_or_none()
    return until if until is not None and until > now else None
