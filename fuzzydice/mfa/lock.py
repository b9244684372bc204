"""The second-step lock: failures of every second factor of an account count together.

An attempt first reserves a slot with one atomic UPDATE (`failures < max`), so
however many requests race, no more than `second_factor_max_failures` codes are
ever evaluated in a window. The slot that fails stays counted; the last one
locks the step. Attempts during the lock are refused without reserving anything,
so they do not extend it. A success gives the slot back and clears the count.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from fuzzydice.models import SecondFactorLock
from fuzzydice.settings import Settings

_table = SecondFactorLock.__table__


def _ensure_row(session: Session, user_id: int, now: datetime) -> None:
    exists = session.execute(sa.select(_table.c.user_id).where(_table.c.user_id == user_id)).first()
    if exists is None:
        try:
            with session.begin_nested():
                session.execute(sa.insert(_table).values(user_id=user_id, failures=0, window_started_at=now))
        except IntegrityError:
            pass  # another request created it


def reserve_attempt(session: Session, user_id: int, now: datetime, settings: Settings) -> int | None:
    """Take one attempt slot; returns the failures counted so far including this one, or None when locked."""
    _ensure_row(session, user_id, now)
    # A window that has run out, or a lock that has, starts afresh. With no failure
    # counted (first attempt, or after a success) the window opens now, at the first
    # failure: otherwise it stays anchored at an earlier success and failures minutes
    # apart fall into different windows.
    session.execute(
        sa.update(_table)
        .where(
            _table.c.user_id == user_id,
            sa.or_(
                sa.and_(
                    _table.c.locked_until.is_(None),
                    sa.or_(
                        _table.c.failures == 0,
                        _table.c.window_started_at <= now - settings.second_factor_failure_window,
                    ),
                ),
                _table.c.locked_until <= now,
            ),
        )
        .values(failures=0, window_started_at=now, locked_until=None)
    )
    taken = session.execute(
        sa.update(_table)
        .where(
            _table.c.user_id == user_id,
            _table.c.failures < settings.second_factor_max_failures,
            _table.c.locked_until.is_(None),
        )
        .values(failures=_table.c.failures + 1)
        .returning(_table.c.failures)
    ).scalar_one_or_none()
    session.commit()
    return taken


def record_failure(session: Session, user_id: int, taken: int, now: datetime, settings: Settings) -> int:
    """Keep the failed slot; lock when it was the last. Returns the attempts left."""
    left = max(0, settings.second_factor_max_failures - taken)
    if left == 0:
        session.execute(
            sa.update(_table)
            .where(_table.c.user_id == user_id, _table.c.locked_until.is_(None))
            .values(locked_until=now + settings.second_factor_lock)
        )
        session.commit()
    return left


def record_success(session: Session, user_id: int) -> None:
    """Clear the count after a correct code."""
    session.execute(sa.update(_table).where(_table.c.user_id == user_id).values(failures=0, locked_until=None))
    session.commit()


def attempts_left(session: Session, user_id: int, now: datetime, settings: Settings) -> int:
    """Attempts left right now (0 while locked); does not reserve anything."""
    row = session.execute(sa.select(_table).where(_table.c.user_id == user_id)).first()
    if row is None:
        return settings.second_factor_max_failures
    if row.locked_until is not None:
        return 0 if row.locked_until > now else settings.second_factor_max_failures
    if row.window_started_at <= now - settings.second_factor_failure_window:
        return settings.second_factor_max_failures
    return max(0, settings.second_factor_max_failures - row.failures)
