"""The second-step lock counts failures in a sliding window (issue #8, point 9).

At any moment the failures of the last `second_factor_failure_window` count; a code is
checked only while (failures counted + codes in flight) < `second_factor_max_failures`,
and the failure that makes the maximum locks for `second_factor_lock`. A fixed window
let 8 codes through across its boundary (4 before it ends, 4 more or a locking 5th just
after); here no more than 5 are evaluated in any 15 minutes.

The mechanism is called directly on the real database (SQLite and PostgreSQL); time
moves only with the FixedClock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from alembic import command
from sqlmodel import Session

from fuzzydice.clock import FixedClock
from fuzzydice.db import make_engine
from fuzzydice.mfa import lock
from fuzzydice.models import SecondFactorLock, UtcDateTime
from fuzzydice.services import Services
from fuzzydice.settings import Settings
from tests.conftest import alembic_config, run_in_parallel, write_rows
from tests.mfa.conftest import failure_count, failure_times, lock_row

MINUTE = timedelta(minutes=1)


def fail(session: Session, user_id: int, now: datetime, settings: Settings, times: int = 1) -> list[tuple[int, datetime | None]]:
    """Reserve a slot and settle it as a failure, `times` times; the (attempts left, locked until) answers."""
    answers = []
    for _ in range(times):
        assert lock.reserve_attempt(session, user_id, lock.SIGN_IN, now, settings) is None
        answers.append(lock.record_failure(session, user_id, lock.SIGN_IN, now, settings))
    return answers


def reserve(session: Session, user_id: int, now: datetime, settings: Settings) -> lock.Refused | None:
    return lock.reserve_attempt(session, user_id, lock.SIGN_IN, now, settings)


def test_failures_straddling_a_window_boundary_still_count_together(
    services: Services, clock: FixedClock, make_user: Callable[..., int]
) -> None:
    """1 failure at 14:45, 3 at 14:59, then 15:01: a fixed window opened at 14:45 started afresh there."""
    user_id, settings = make_user(), services.settings
    with services.db() as session:
        assert fail(session, user_id, clock.now(), settings) == [(4, None)]
        clock.advance(14 * MINUTE)
        assert fail(session, user_id, clock.now(), settings, 3) == [(3, None), (2, None), (1, None)]
        clock.advance(2 * MINUTE)  # only the first failure is older than the window
        assert lock.attempts_left(session, user_id, lock.SIGN_IN, clock.now(), settings) == 2
        until = clock.now() + settings.second_factor_lock
        assert fail(session, user_id, clock.now(), settings, 2) == [(1, None), (0, until)]
        assert reserve(session, user_id, clock.now(), settings) == lock.Refused(until)
        row = session.get(SecondFactorLock, (user_id, lock.SIGN_IN))
        assert failure_times(row) == [clock.now() - 2 * MINUTE] * 3 + [clock.now()] * 2


def test_a_failure_frees_its_attempt_exactly_one_window_after_it_happened(
    services: Services, clock: FixedClock, make_user: Callable[..., int]
) -> None:
    user_id, settings = make_user(), services.settings

    def left() -> int:
        return lock.attempts_left(session, user_id, lock.SIGN_IN, clock.now(), settings)

    with services.db() as session:
        fail(session, user_id, clock.now(), settings)
        clock.advance(5 * MINUTE)
        fail(session, user_id, clock.now(), settings, 3)
        clock.advance(settings.second_factor_failure_window - 5 * MINUTE - timedelta(seconds=1))
        assert left() == 1
        assert reserve(session, user_id, clock.now(), settings) is None
        assert reserve(session, user_id, clock.now(), settings).busy
        lock.release(session, user_id, lock.SIGN_IN)
        clock.advance(1)  # the first failure is a window old now; the other three are not
        assert left() == 2
        for _ in range(2):
            assert reserve(session, user_id, clock.now(), settings) is None
        assert reserve(session, user_id, clock.now(), settings).busy
        for _ in range(2):
            lock.release(session, user_id, lock.SIGN_IN)
        clock.advance(5 * MINUTE)
        assert left() == 5


def test_a_success_clears_the_failures_of_the_window(
    services: Services, clock: FixedClock, make_user: Callable[..., int]
) -> None:
    user_id, settings = make_user(), services.settings
    with services.db() as session:
        fail(session, user_id, clock.now(), settings, 4)
        assert reserve(session, user_id, clock.now(), settings) is None
        lock.record_success(session, user_id, lock.SIGN_IN)
        assert lock.attempts_left(session, user_id, lock.SIGN_IN, clock.now(), settings) == 5
        clock.advance(MINUTE)
        assert fail(session, user_id, clock.now(), settings, 5)[-1] == (0, clock.now() + settings.second_factor_lock)


@pytest.mark.parametrize("lock_minutes", [5, 30])
def test_the_lock_lasts_its_own_length_whatever_the_window(
    services: Services, clock: FixedClock, make_user: Callable[..., int], lock_minutes: int
) -> None:
    user_id = make_user()
    settings = services.settings.model_copy(update={"second_factor_lock": timedelta(minutes=lock_minutes)})
    until = clock.now() + timedelta(minutes=lock_minutes)
    with services.db() as session:
        assert fail(session, user_id, clock.now(), settings, 5)[-1] == (0, until)
        clock.advance(timedelta(minutes=lock_minutes) - timedelta(seconds=1))
        assert reserve(session, user_id, clock.now(), settings) == lock.Refused(until)
        assert lock.attempts_left(session, user_id, lock.SIGN_IN, clock.now(), settings) == 0
        clock.advance(1)
        # The lock has served its failures, even those still inside the window: the count starts afresh.
        assert lock.locked_until(session, user_id, lock.SIGN_IN, clock.now()) is None
        assert lock.attempts_left(session, user_id, lock.SIGN_IN, clock.now(), settings) == 5
        assert fail(session, user_id, clock.now(), settings) == [(4, None)]


def test_attempts_during_the_lock_change_nothing(services: Services, clock: FixedClock, make_user: Callable[..., int]) -> None:
    user_id, settings = make_user(), services.settings
    with services.db() as session:
        until = fail(session, user_id, clock.now(), settings, 5)[-1][1]
        before = lock_row(services, user_id).model_dump()
        for _ in range(3):
            clock.advance(4 * MINUTE)  # the failures age out of the window meanwhile; the lock stays
            assert reserve(session, user_id, clock.now(), settings) == lock.Refused(until)
        assert lock_row(services, user_id).model_dump() == before  # not even its version moved
        clock.advance(until - clock.now())
        assert reserve(session, user_id, clock.now(), settings) is None


def test_parallel_failures_are_all_counted_and_lock_once(services: Services, make_user: Callable[..., int]) -> None:
    """Every failure lands although they all rewrite the same row at once (compare-and-set: no lost update)."""
    user_id, now = make_user(), services.clock.now()
    settings = services.settings.model_copy(update={"second_factor_max_failures": 20})
    with services.db() as session:
        for _ in range(20):
            assert reserve(session, user_id, now, settings) is None
    locks: list[int] = []

    def settle() -> tuple[int, datetime | None]:
        with services.db() as session:
            return lock.record_failure(session, user_id, lock.SIGN_IN, now, settings, on_lock=lambda: locks.append(1))

    answers = run_in_parallel(settle, workers=20)
    until = now + settings.second_factor_lock
    assert sorted(left for left, _ in answers) == list(range(20))
    assert [answer for answer in answers if answer[1] is not None] == [(0, until)]
    assert len(locks) == 1
    row = lock_row(services, user_id)
    assert (failure_count(row), row.in_flight, row.locked_until) == (20, 0, until)


def test_parallel_codes_across_a_window_boundary_get_only_the_attempts_left(
    services: Services, clock: FixedClock, make_user: Callable[..., int]
) -> None:
    user_id, settings = make_user(), services.settings
    with services.db() as session:
        fail(session, user_id, clock.now(), settings)
        clock.advance(14 * MINUTE)
        fail(session, user_id, clock.now(), settings, 3)
    clock.advance(2 * MINUTE)
    now = clock.now()
    until = now + settings.second_factor_lock

    def guess() -> tuple[int, datetime | None] | lock.Refused:
        with services.db() as session:
            refusal = reserve(session, user_id, now, settings)
            return refusal or lock.record_failure(session, user_id, lock.SIGN_IN, now, settings)

    answers = run_in_parallel(guess, workers=50)
    checked = [answer for answer in answers if not isinstance(answer, lock.Refused)]
    assert sorted(checked, key=lambda answer: answer[0]) == [(0, until), (1, None)]
    assert set(answers) - set(checked) <= {lock.Refused(), lock.Refused(until)}
    row = lock_row(services, user_id)
    assert (failure_count(row), row.in_flight, row.locked_until) == (5, 0, until)


def test_migration_0006_carries_counted_failures_over_and_back(empty_db_url: str) -> None:
    """A lock in force at the upgrade keeps it: each counted failure is dated at its window's start."""
    config = alembic_config(empty_db_url)
    command.upgrade(config, "0005")
    start = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)
    until = start + timedelta(minutes=15)
    users = sa.table(
        "users", sa.column("id"), sa.column("name"), sa.column("phone_verified"), sa.column("created_at", UtcDateTime())
    )
    old = sa.table(
        "second_factor_locks", sa.column("user_id"), sa.column("scope"), sa.column("failures"), sa.column("in_flight"),
        sa.column("window_started_at", UtcDateTime()), sa.column("locked_until", UtcDateTime()),
    )
    write_rows(empty_db_url, users, [dict(id=n, name=f"u{n}", phone_verified=False, created_at=start) for n in (1, 2)])
    write_rows(empty_db_url, old, [
        dict(user_id=1, scope="sign_in", failures=3, in_flight=1, window_started_at=start, locked_until=None),
        dict(user_id=2, scope="step_up", failures=5, in_flight=0, window_started_at=start, locked_until=until),
    ])
    engine = make_engine(empty_db_url)
    try:
        command.upgrade(config, "0006")
        with Session(engine) as session:
            settings = Settings.model_construct()  # the defaults: 5 failures in 15 minutes
            one = session.get(SecondFactorLock, (1, "sign_in"))
            assert (failure_times(one), one.in_flight, one.last_reserved_at, one.locked_until) == ([start] * 3, 1, start, None)
            two = session.get(SecondFactorLock, (2, "step_up"))
            assert (failure_count(two), two.locked_until) == (5, until)
            # They stop counting when their fixed window would have ended.
            assert lock.attempts_left(session, 1, lock.SIGN_IN, start + timedelta(minutes=14), settings) == 2
            assert lock.attempts_left(session, 1, lock.SIGN_IN, start + timedelta(minutes=15), settings) == 5
            assert lock.locked_until(session, 2, lock.STEP_UP, start + timedelta(minutes=14)) == until
        command.downgrade(config, "0005")
        with engine.connect() as connection:
            rows = connection.execute(sa.select(old).order_by(old.c.user_id)).all()
        assert [(r.failures, r.in_flight, r.window_started_at, r.locked_until) for r in rows] == [
            (3, 1, start, None), (5, 0, start, until)
        ]
    finally:
        engine.dispose()
