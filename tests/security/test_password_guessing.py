"""Attack review #7, findings 1 and 2: racing the password backoff, and locking strangers' accounts.

Finding 1: 50 parallel wrong passwords from one IP got 9 bcrypt checks, then 6 more per
backoff window (the backoff was read, then the hash ran, then the failure was written).
Finding 2: 100 failures set a lock nothing cleared; anyone could shut any account for good.
Each test counts real bcrypt checks (`checkpw_calls`) on a real database, with the clock pinned.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from fuzzydice.auth import flows
from fuzzydice.clock import FixedClock
from fuzzydice.outcome import Code
from fuzzydice.services import Services, build_services
from fuzzydice.ui.messages import say
from tests.conftest import STRONG_PASSWORD, make_settings, run_in_parallel
from tests.first_factor import is_wrong, user_of, wait_of

EMAIL = "owner@example.com"
ATTACKER = "203.0.113.66"
HOME = "192.0.2.10"  # where the owner signed in before: a known source
ATTACKERS = [f"198.51.100.{n}" for n in range(1, 31)]  # 30 addresses


@pytest.fixture
def owner(make_user: Callable[..., int], services: Services) -> int:
    user_id = make_user(EMAIL)
    services.hasher.dummy_hash()  # pre-computed: only checks are counted
    assert user_of(sign_in(services, STRONG_PASSWORD, HOME)) == user_id  # HOME becomes a known source
    return user_id


def sign_in(services: Services, password: str, ip: str, email: str = EMAIL):
    return flows.sign_in_with_password(services, email=email, password=password, ip=ip)


def guess_until(services: Services, clock: FixedClock, failures: int, ips: list[str]) -> None:
    """A patient guesser: tries from `ips` in turn, waits whenever told to, until `failures` wrong guesses were checked."""
    checked = turn = 0
    while checked < failures:
        result = sign_in(services, f"guess number {checked}", ips[turn % len(ips)])
        turn += 1
        if wait := wait_of(result, clock.now()):
            clock.advance(wait)
            continue
        assert is_wrong(result)
        checked += 1


# --- finding 1: the backoff cannot be raced ------------------------------------------------------


@pytest.fixture
def unlimited_flood(tmp_path: Path, db_url: str, clock: FixedClock):
    """Services whose per-IP request limit is out of the way: this test is about the (account, IP) backoff alone."""
    services = build_services(make_settings(tmp_path, db_url, sign_in_ip_limit=10_000), clock)
    yield services
    services.engine.dispose()


def test_parallel_wrong_passwords_get_exactly_the_allowed_bcrypt_checks(
    unlimited_flood: Services, clock: FixedClock, checkpw_calls: list[bytes]
) -> None:
    services = unlimited_flood
    assert flows.register(services, name="Owner", email=EMAIL, password=STRONG_PASSWORD).ok
    services.hasher.dummy_hash()
    settings = services.settings
    # Policy: 3 failures in quick succession are free; the third earns 1 s, the next 2 s.
    assert settings.backoff_free_failures == 3 and settings.backoff_initial == timedelta(seconds=1)

    def attack():
        return sign_in(services, "not the password", ATTACKER)

    results = run_in_parallel(attack, workers=50)
    assert len(checkpw_calls) == 3
    assert sum(is_wrong(r) for r in results) == 3
    refused = [r for r in results if not is_wrong(r)]
    assert len(refused) == 47 and all(r.code == Code.RATE_LIMITED and wait_of(r, clock.now()) == 1 for r in refused)

    clock.advance(1)  # past the backoff: exactly one more guess is checked, and it earns 2 s
    checkpw_calls.clear()
    results = run_in_parallel(attack, workers=50)
    assert len(checkpw_calls) == 1
    assert sorted(wait_of(r, clock.now()) or 0 for r in results) == [0] + [2] * 49

    clock.advance(2)
    checkpw_calls.clear()
    assert sign_in(services, STRONG_PASSWORD, ATTACKER).ok  # the right password still works
    assert len(checkpw_calls) == 1


# --- finding 2: failures slow the attacker, never lock the owner out ------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("ips", [ATTACKERS, [ATTACKER]], ids=["30 addresses", "one address"])
def test_200_failures_never_stop_the_owner(services: Services, clock: FixedClock, owner: int, ips: list[str]) -> None:
    """200 wrong guesses in a row (the old lock took 100): from a known address the owner gets in at once,
    from a new one after at most the cap."""
    guess_until(services, clock, 200, ips)
    result = sign_in(services, STRONG_PASSWORD, HOME)
    assert user_of(result) == owner, result

    cap = services.settings.account_backoff_max
    assert cap == timedelta(seconds=60)
    result = sign_in(services, STRONG_PASSWORD, "100.64.0.1")  # a hotel, a phone network: new to this account
    if not result.ok:
        assert 0 < wait_of(result, clock.now()) <= cap.total_seconds()
        clock.advance(wait_of(result, clock.now()))
        result = sign_in(services, STRONG_PASSWORD, "100.64.0.1")
    assert user_of(result) == owner


def attack_for_an_hour(services: Services, clock: FixedClock, ips: list[str]) -> None:
    """Every address guesses as soon as it may (it is told when), for one simulated hour."""
    end = clock.now() + timedelta(hours=1)
    next_try = {ip: clock.now() for ip in ips}
    guesses = 0
    while True:
        ip = min(next_try, key=next_try.__getitem__)  # ties: the first address
        if next_try[ip] >= end:
            return
        if next_try[ip] > clock.now():
            clock.advance(next_try[ip] - clock.now())
        result = sign_in(services, f"guess {guesses}", ip)
        guesses += 1
        next_try[ip] = clock.now() + timedelta(seconds=wait_of(result, clock.now()) or 0)


@pytest.mark.slow
def test_the_account_wide_backoff_slows_a_30_address_attack(
    services: Services, clock: FixedClock, owner: int, checkpw_calls: list[bytes]
) -> None:
    """30 addresses guessing for an hour get 74 checks, not the ~1,500 the per-address limits alone allow.

    Account-wide policy: 10 free failures (all at once), then 1, 2, 4, 8, 16, 32 s and 60 s from
    then on: guesses at 0 s (10), 1, 3, 7, 15, 31, 63, then every 60 s up to 63 + 58 * 60 = 3543 s: 10 + 6 + 58 = 74.
    (Per address alone: 3 free, 1 s doubling to 60 s, and at most 50 failures an hour: 30 * 50 = 1,500.)
    """
    checkpw_calls.clear()
    attack_for_an_hour(services, clock, ATTACKERS)
    assert len(checkpw_calls) == 74
    assert user_of(sign_in(services, STRONG_PASSWORD, HOME)) == owner  # the owner, at home, is not slowed


def test_spraying_one_password_across_100_accounts_is_cut_off_per_address(
    services: Services, clock: FixedClock, make_user: Callable[..., int], checkpw_calls: list[bytes]
) -> None:
    emails = [f"member{n}@example.com" for n in range(100)]
    for email in emails:
        make_user(email)
    services.hasher.dummy_hash()
    checkpw_calls.clear()
    limit = services.settings.sign_in_ip_failure_limit
    assert limit == 50
    results = []
    for email in emails:  # one guess per account, paced to stay under the per-request limit (30 a minute)
        results.append(sign_in(services, "Summer2026!", ATTACKER, email=email))
        clock.advance(2)
    assert len(checkpw_calls) == limit
    assert all(is_wrong(r) for r in results[:limit])
    assert all(r.code == Code.RATE_LIMITED and r.retry_at > clock.now() for r in results[limit:])
    words = say(results[-1], services.settings, now=clock.now())
    assert words.startswith("Too many attempts") and words.endswith(" minutes.")  # the hour's window ends in minutes
    # Another address is not affected, and the owners are not slowed.
    assert sign_in(services, STRONG_PASSWORD, "192.0.2.99", email=emails[-1]).ok
