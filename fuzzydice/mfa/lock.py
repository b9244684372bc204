"""The second-step lock: failures of every second factor of an account count together, per scope.

Scopes keep an attacker who only has the password from locking the owner's own
signed-in sessions out: `sign_in` counts the second step after a first factor,
`step_up` counts full sessions confirming a sensitive change.

Failures count in a sliding window: at any moment, those of the last
`second_factor_failure_window` count, and one older than that no longer does. A code
may be checked only while (failures counted + codes in flight) < `second_factor_max_failures`
and the scope is not locked; the failure that makes the maximum inside one window locks
the scope for `second_factor_lock`. So, short of a success, no more than the maximum of
codes are evaluated in any window-long stretch of time, wherever it starts (a fixed window
let almost twice as many through around its end). When the lock lifts, the failures that
set it are forgiven and the count starts afresh; a lock at least as long as the window
(the defaults) keeps the bound.

Every code first reserves a slot, so however many requests race, no more than the
maximum of codes are ever checked without a success. A code in flight holds its slot
until it is settled: a failure moves it to the failures (the last one locks), a success
clears the failures but not the slots other codes still hold, and a valid code that lost
a replay race gives its slot back without counting (a double submission must not lock
the owner). Attempts during a lock reserve nothing, so they do not extend it. Slots
still held a whole window after the last reservation belong to requests that died, and
are freed.

The row keeps the times of the failures that may still count (at most the maximum), the
number of codes in flight, the lock and a `version`. Every change is a compare-and-set:
read the row, compute the new state here, ``UPDATE … WHERE version = <read>`` and read
again when another request changed it first. That is race-free on SQLite (one writer at a
time) and on PostgreSQL's READ COMMITTED (the version condition is re-checked on the newest
row). The read says ``FOR UPDATE``, which SQLAlchemy leaves out on SQLite; on PostgreSQL it
queues racing requests on the row instead of letting them lose rounds.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from fuzzydice.clock import as_utc
from fuzzydice.models import SecondFactorLock
from fuzzydice.settings import Settings

Scope = Literal["sign_in", "step_up"]
SIGN_IN: Scope = "sign_in"
STEP_UP: Scope = "step_up"

_table = SecondFactorLock.__table__
_TRIES = 10
"""Compare-and-set rounds before giving up (a lost round means another request's change landed)."""

T = TypeVar("T")


@dataclass(frozen=True)
class Refused:
    """No slot was taken: locked until `locked_until`, or every slot is held by a code in flight (`busy`)."""

    locked_until: datetime | None = None

    @property
    def busy(self) -> bool:
        """Other codes of this account are being checked right now; nothing is locked."""
        return self.locked_until is None


@dataclass(frozen=True)
class _State:
    """One scope's lock as read from its row."""

    failures: tuple[datetime, ...]
    in_flight: int
    last_reserved_at: datetime | None
    locked_until: datetime | None

    @classmethod
    def of(cls, row) -> _State:
        return cls(
            failures=tuple(as_utc(datetime.fromisoformat(t)) for t in json.loads(row.recent_failures)),
            in_flight=row.in_flight,
            last_reserved_at=row.last_reserved_at,
            locked_until=row.locked_until,
        )

    def at(self, now: datetime, settings: Settings) -> _State:
        """The state as it stands at `now`: old failures, a lock that ran out and slots of dead requests dropped."""
        state = self
        if state.locked_until is not None and state.locked_until <= now:
            state = replace(state, locked_until=None, failures=())  # the lock served its failures
        window_start = now - settings.second_factor_failure_window
        state = replace(state, failures=tuple(t for t in state.failures if t > window_start))
        if state.last_reserved_at is None or state.last_reserved_at <= window_start:
            state = replace(state, in_flight=0)
        return state

    def released(self) -> _State:
        return replace(self, in_flight=max(0, self.in_flight - 1))

    def values(self) -> dict:
        return dict(
            recent_failures=json.dumps([t.isoformat() for t in self.failures]),
            in_flight=self.in_flight,
            last_reserved_at=self.last_reserved_at,
            locked_until=self.locked_until,
        )


def _key(user_id: int, scope: Scope):
    return sa.and_(_table.c.user_id == user_id, _table.c.scope == scope)


def _read(session: Session, user_id: int, scope: Scope, *, for_update: bool = False):
    query = sa.select(_table).where(_key(user_id, scope))
    return session.execute(query.with_for_update() if for_update else query).first()


def _ensure_row(session: Session, user_id: int, scope: Scope) -> None:
    if _read(session, user_id, scope) is None:
        try:
            with session.begin_nested():
                session.execute(sa.insert(_table).values(user_id=user_id, scope=scope, recent_failures="[]", in_flight=0))
        except IntegrityError:
            pass  # another request created it


def _change(session: Session, user_id: int, scope: Scope, change: Callable[[_State], tuple[_State | None, T]]) -> T | None:
    """Apply `change` to the row as one compare-and-set, and return its result. Not committed.

    `change` gets the state read and returns (the new state, or None to write nothing; a result).
    A missing row stays missing: `change` is not called and the result is None.
    """
    for _ in range(_TRIES):
        row = _read(session, user_id, scope, for_update=True)
        if row is None:
            return None
        new, result = change(_State.of(row))
        if new is None:
            return result
        written = session.execute(
            sa.update(_table)
            .where(_key(user_id, scope), _table.c.version == row.version)
            .values(**new.values(), version=row.version + 1)
        ).rowcount
        if written == 1:
            return result
    raise RuntimeError("the second-step lock kept changing under concurrent requests")


def reserve_attempt(session: Session, user_id: int, scope: Scope, now: datetime, settings: Settings) -> Refused | None:
    """Take one slot for a code; None when taken, else why not (committed either way)."""
    _ensure_row(session, user_id, scope)

    def take(read: _State) -> tuple[_State | None, Refused | None]:
        state = read.at(now, settings)
        if state.locked_until is not None:
            return None, Refused(locked_until=state.locked_until)
        if len(state.failures) + state.in_flight >= settings.second_factor_max_failures:
            return None, Refused()
        return replace(state, in_flight=state.in_flight + 1, last_reserved_at=now), None

    refusal = _change(session, user_id, scope, take)
    session.commit()
    return refusal


def record_failure(
    session: Session,
    user_id: int,
    scope: Scope,
    now: datetime,
    settings: Settings,
    on_lock: Callable[[], None] | None = None,
) -> tuple[int, datetime | None]:
    """Settle a slot as a failure; the one that makes the maximum inside the window locks.

    Returns (attempts left, locked until): attempts left is 0 while locked.
    `on_lock` runs when this failure set the lock, inside the same transaction (its audit entry).
    """
    _ensure_row(session, user_id, scope)

    def fail(read: _State) -> tuple[_State, tuple[bool, int, datetime | None]]:
        state = read.at(now, settings).released()
        state = replace(state, failures=(*state.failures, now)[-settings.second_factor_max_failures:])
        left = max(0, settings.second_factor_max_failures - len(state.failures))
        locks = left == 0 and state.locked_until is None
        if locks:
            state = replace(state, locked_until=now + settings.second_factor_lock)
        return state, (locks, 0 if state.locked_until is not None else left, state.locked_until)

    locked, left, until = _change(session, user_id, scope, fail)
    if locked and on_lock is not None:
        on_lock()
    session.commit()
    return left, until


def record_success(session: Session, user_id: int, scope: Scope) -> None:
    """Settle a slot as a success: the failures are forgiven; codes still in flight keep their slots."""
    _change(session, user_id, scope, lambda read: (replace(read.released(), failures=(), locked_until=None), None))
    session.commit()


def release(session: Session, user_id: int, scope: Scope) -> None:
    """Give a slot back uncounted (a valid code that lost the race to its own twin)."""
    _change(session, user_id, scope, lambda read: (read.released(), None))
    session.commit()


def attempts_left(session: Session, user_id: int, scope: Scope, now: datetime, settings: Settings) -> int:
    """Attempts left right now (0 while locked): the maximum less the failures in the window; reserves nothing."""
    row = _read(session, user_id, scope)
    if row is None:
        return settings.second_factor_max_failures
    state = _State.of(row).at(now, settings)
    if state.locked_until is not None:
        return 0
    return max(0, settings.second_factor_max_failures - len(state.failures))


def locked_until(session: Session, user_id: int, scope: Scope, now: datetime) -> datetime | None:
    """When the lock of this scope lifts, or None when it is not locked."""
    until = session.execute(sa.select(_table.c.locked_until).where(_key(user_id, scope))).scalar_one_or_none()
    return until if until is not None and until > now else None
