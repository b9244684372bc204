"""Backoff arithmetic and the atomic failure counters, on a real SQLite file."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import run_in_parallel
from fuzzydice.auth import throttle
from fuzzydice.clock import FixedClock
from fuzzydice.db import make_engine, new_session
from fuzzydice.models import SignInThrottle, User
from fuzzydice.services import Services
from fuzzydice.settings import Settings


@pytest.mark.parametrize(
    ("failures", "seconds"),
    [(0, 0), (1, 0), (2, 0), (3, 1), (4, 2), (5, 4), (6, 8), (7, 16), (8, 32), (9, 60), (10, 60), (40, 60)],
)
def test_backoff_delay(settings: Settings, failures: int, seconds: int) -> None:
    assert throttle.backoff_delay(failures, settings) == timedelta(seconds=seconds)


def test_account_key_is_stable_and_does_not_store_the_email() -> None:
    key = throttle.account_key("bob@example.com")
    assert key == throttle.account_key("bob@example.com")
    assert key != throttle.account_key("bob@example.org")
    assert "bob" not in key and len(key) == 64


def test_record_failure_sets_backoff_and_retry_after(services: Services, clock: FixedClock) -> None:
    key, ip = throttle.account_key("bob@example.com"), "203.0.113.5"
    with services.db() as session:
        for expected in (1, 2, 3):
            assert throttle.record_failure(session, key, ip, clock.now(), services.settings) == expected
        # The third failure earns 1 s.
        assert throttle.retry_after(session, key, ip, clock.now()) == timedelta(seconds=1)
        assert throttle.retry_after(session, key, "198.51.100.1", clock.now()) is None
        clock.advance(0.5)
        assert throttle.retry_after(session, key, ip, clock.now()) == timedelta(seconds=0.5)
        clock.advance(0.5)
        assert throttle.retry_after(session, key, ip, clock.now()) is None
        assert throttle.record_failure(session, key, ip, clock.now(), services.settings) == 4
        assert throttle.retry_after(session, key, ip, clock.now()) == timedelta(seconds=2)
        throttle.clear_failures(session, key, ip)
        session.commit()
        assert throttle.retry_after(session, key, ip, clock.now()) is None
        assert throttle.record_failure(session, key, ip, clock.now(), services.settings) == 1


def test_account_failures_lock_at_the_cap(services: Services, clock: FixedClock, make_user) -> None:
    user_id = make_user()
    settings = services.settings.model_copy(update={"account_lock_failures": 3})
    with services.db() as session:
        assert throttle.record_account_failure(session, user_id, clock.now(), settings) == 1
        assert throttle.record_account_failure(session, user_id, clock.now(), settings) == 2
        assert session.get(User, user_id).locked_at is None
        locked_at = clock.now()
        assert throttle.record_account_failure(session, user_id, locked_at, settings) == 3
        clock.advance(60)
        # Later failures do not move the lock.
        assert throttle.record_account_failure(session, user_id, clock.now(), settings) == 4
    with services.db() as session:
        assert session.get(User, user_id).locked_at == locked_at


def test_parallel_failures_are_counted_exactly(settings: Settings, clock: FixedClock) -> None:
    """20 workers, each with its own connection, count on one (account, IP) row: none is lost."""
    engine = make_engine(settings.database_url)
    key, ip, workers = throttle.account_key("race@example.com"), "192.0.2.7", 20

    def record() -> int:
        with new_session(engine) as session:
            return throttle.record_failure(session, key, ip, clock.now(), settings)

    results = run_in_parallel(record, workers)
    with new_session(engine) as session:
        rows = session.execute(sa.select(SignInThrottle.failures)).scalars().all()
    engine.dispose()
    assert rows == [workers]
    # Every worker saw a distinct count: the increments were serialized, not read-then-written.
    assert sorted(results) == list(range(1, workers + 1))
