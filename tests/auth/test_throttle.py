"""Backoff arithmetic and the atomic reservation of first-factor attempts, on a real SQLite file."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import run_in_parallel
from fuzzydice.auth import throttle
from fuzzydice.clock import FixedClock
from fuzzydice.db import make_engine, new_session
from fuzzydice.models import SignInThrottle
from fuzzydice.services import Services
from fuzzydice.settings import Settings

KEY = throttle.account_key("bob@example.com")
IP = "203.0.113.5"


@pytest.mark.parametrize(
    ("failures", "seconds"),
    [(0, 0), (1, 0), (2, 0), (3, 1), (4, 2), (5, 4), (6, 8), (7, 16), (8, 32), (9, 60), (10, 60), (40, 60)],
)
def test_backoff_delay(settings: Settings, failures: int, seconds: int) -> None:
    assert throttle.backoff_delay(failures, settings) == timedelta(seconds=seconds)


@pytest.mark.parametrize(("failures", "seconds"), [(1, 0), (9, 0), (10, 1), (11, 2), (15, 32), (16, 60), (500, 60)])
def test_account_backoff_delay(settings: Settings, failures: int, seconds: int) -> None:
    assert throttle.account_backoff_delay(failures, settings) == timedelta(seconds=seconds)


def test_account_key_is_stable_and_does_not_store_the_email() -> None:
    key = throttle.account_key("bob@example.com")
    assert key == throttle.account_key("bob@example.com")
    assert key != throttle.account_key("bob@example.org")
    assert "bob" not in key and len(key) == 64


def test_no_source_can_pose_as_the_account_wide_row() -> None:
    assert throttle.source(throttle.NEW_SOURCES) == throttle.source("") == throttle.source(None) == "unknown"
    assert throttle.source("192.0.2.1") == "192.0.2.1"


def test_an_ipv6_subscriber_counts_as_one_source() -> None:
    """One /64 is one subscriber: rotating through its 2**64 addresses must not reset any limit."""
    assert throttle.source("2001:db8:1:2::1") == throttle.source("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert throttle.source("2001:db8:1:3::1") != throttle.source("2001:db8:1:2::1")
    assert throttle.source("::ffff:192.0.2.1") == "192.0.2.1"


def reserve(services: Services, clock: FixedClock, ip: str = IP, key: str = KEY) -> throttle.Attempt:
    with services.db() as session:
        return throttle.reserve_attempt(session, key, ip, clock.now(), services.settings)


def rows(services: Services) -> dict[str, tuple[int, object]]:
    with services.db() as session:
        found = session.execute(sa.select(SignInThrottle.ip, SignInThrottle.failures, SignInThrottle.blocked_until))
        return {row.ip: (row.failures, row.blocked_until) for row in found}


def test_reservations_earn_the_backoff_and_refusals_count_nothing(services: Services, clock: FixedClock) -> None:
    settings = services.settings
    for _ in range(3):
        assert reserve(services, clock).wait is None
    # The third failure earns 1 s, for this IP only.
    with services.db() as session:
        assert throttle.retry_after(session, KEY, IP, clock.now(), settings) == timedelta(seconds=1)
        assert throttle.retry_after(session, KEY, "198.51.100.1", clock.now(), settings) is None
    before = rows(services)
    assert reserve(services, clock).wait == timedelta(seconds=1)
    clock.advance(0.5)
    assert reserve(services, clock).wait == timedelta(seconds=0.5)
    assert rows(services) == before  # refused attempts neither count nor extend the backoff
    clock.advance(0.5)
    assert reserve(services, clock).wait is None
    with services.db() as session:
        assert throttle.retry_after(session, KEY, IP, clock.now(), settings) == timedelta(seconds=2)


def test_success_clears_the_pair_and_makes_the_source_known(services: Services, clock: FixedClock) -> None:
    for _ in range(3):
        reserve(services, clock)
    clock.advance(1)
    attempt = reserve(services, clock)
    assert attempt.wait is None and not attempt.known_source
    with services.db() as session:
        throttle.record_success(session, KEY, IP, clock.now(), attempt)
        session.commit()
    assert rows(services)[IP] == (0, None)
    assert rows(services)[throttle.NEW_SOURCES][0] == 3  # the successful attempt gave its account-wide slot back
    assert reserve(services, clock).known_source
    clock.advance(services.settings.known_source_memory)
    assert not reserve(services, clock).known_source


def test_account_wide_backoff_stops_new_sources_only(services: Services, clock: FixedClock) -> None:
    home = "192.0.2.1"
    attempt = reserve(services, clock, ip=home)
    with services.db() as session:
        throttle.record_success(session, KEY, home, clock.now(), attempt)
        session.commit()
    free = services.settings.account_backoff_free_failures
    for n in range(free):
        assert reserve(services, clock, ip=f"10.0.0.{n}").wait is None
    assert reserve(services, clock, ip="10.0.1.1").wait == timedelta(seconds=1)  # a new source waits
    assert reserve(services, clock, ip=home).wait is None  # the known one does not
    clock.advance(1)
    assert reserve(services, clock, ip="10.0.1.1").wait is None


def test_a_quiet_pair_starts_over(services: Services, clock: FixedClock) -> None:
    for _ in range(3):
        reserve(services, clock)
    clock.advance(services.settings.throttle_memory + timedelta(seconds=1))
    assert reserve(services, clock).wait is None
    assert rows(services)[IP][0] == 1


def test_parallel_reservations_take_exactly_the_free_attempts(settings: Settings, clock: FixedClock) -> None:
    """20 workers, each with its own connection, race on one (account, IP): exactly the free ones get through."""
    engine = make_engine(settings.database_url)
    key, ip, workers = throttle.account_key("race@example.com"), "192.0.2.7", 20

    def attempt() -> throttle.Attempt:
        with new_session(engine) as session:
            return throttle.reserve_attempt(session, key, ip, clock.now(), settings)

    results = run_in_parallel(attempt, workers)
    with new_session(engine) as session:
        counted = session.execute(sa.select(SignInThrottle.failures).where(SignInThrottle.ip == ip)).scalars().all()
    engine.dispose()
    assert sum(result.wait is None for result in results) == settings.backoff_free_failures
    assert counted == [settings.backoff_free_failures]


def test_cleanup_keeps_known_sources(services: Services, clock: FixedClock) -> None:
    settings = services.settings
    attempt = reserve(services, clock)
    with services.db() as session:
        throttle.record_success(session, KEY, IP, clock.now(), attempt)
        session.commit()
    reserve(services, clock, ip="198.51.100.9")
    clock.advance(settings.throttle_memory + timedelta(seconds=1))
    known_since = clock.now() - settings.known_source_memory
    with services.db() as session:
        assert throttle.delete_stale_throttles(session, clock.now() - settings.throttle_memory, known_since) == 2
    assert set(rows(services)) == {IP}  # the failures of a stranger and the account go; the owner's address stays
    clock.advance(settings.known_source_memory)
    known_since = clock.now() - settings.known_source_memory
    with services.db() as session:
        assert throttle.delete_stale_throttles(session, clock.now() - settings.throttle_memory, known_since) == 1
