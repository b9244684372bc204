"""Attack review #7, finding 3: sign-in floods and anonymous growth.

120 parallel sign-ins with unknown emails from one IP pushed a real sign-in from 0.31 s to
16.7 s; 500 SIWE challenges were created in 4.4 s; registrations were unlimited. Every
anonymous action that costs a hash or a row is now limited per IP and refused early: a
refused request costs a counter, no bcrypt and no row. At most `hash_concurrency` bcrypt
operations run at once, with a bounded wait for a slot, and the UI's password flows run on
their own pool, so the session guard's lookups never queue behind them.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from eth_account import Account

from fuzzydice.auth import flows
from fuzzydice.auth.password_pool import PasswordPool, PoolBusy, run_password_flow
from fuzzydice.clock import FixedClock
from fuzzydice.models import SignInThrottle, SiweChallenge, User
from fuzzydice.outcome import Code, Failure
from fuzzydice.services import Services, build_services
from fuzzydice.wallet import flows as wallet_flows
from tests.conftest import STRONG_PASSWORD, full_session, make_settings, run_in_parallel
from tests.first_factor import is_wrong, user_of
from tests.wallet_steps import TAB, begin, challenge, sign

FLOODER = "203.0.113.77"


@pytest.fixture
def patient_hashing(tmp_path: Path, db_url: str, clock: FixedClock):
    """Services whose hashing slots wait long enough that no admitted request is turned away as busy:
    this module counts what the per-IP limits let through, so every admitted request must reach bcrypt."""
    services = build_services(make_settings(tmp_path, db_url, hash_wait=60), clock)
    services.hasher.dummy_hash()
    yield services
    services.engine.dispose()


def test_120_parallel_unknown_email_sign_ins_get_at_most_the_per_ip_limit_of_bcrypt_checks(
    patient_hashing: Services, checkpw_calls: list[bytes]
) -> None:
    services = patient_hashing
    limit = services.settings.sign_in_ip_limit
    assert limit == 30
    emails = iter(f"nobody{n}@example.com" for n in range(120))

    def flood():
        return flows.sign_in_with_password(services, email=next(emails), password="whatever123", ip=FLOODER)

    results = run_in_parallel(flood, workers=120)
    assert len(checkpw_calls) == limit
    assert sum(is_wrong(r) for r in results) == limit
    refused = [r for r in results if not is_wrong(r)]
    assert len(refused) == 90
    now = services.clock.now()
    assert all(r.code == Code.RATE_LIMITED and now < r.retry_at <= now + timedelta(seconds=60) for r in refused)


def test_rotating_through_one_ipv6_subscribers_addresses_does_not_escape_the_limit(
    patient_hashing: Services, checkpw_calls: list[bytes]
) -> None:
    """One /64 holds 2**64 addresses; limits count it as one client."""
    services = patient_hashing
    results = [
        flows.sign_in_with_password(services, email=f"nobody{n}@example.com", password="whatever123", ip=f"2001:db8:7:7::{n:x}")
        for n in range(40)
    ]
    assert len(checkpw_calls) == services.settings.sign_in_ip_limit == 30
    assert all(r.code == Code.RATE_LIMITED for r in results[30:])


def test_a_sign_in_from_another_address_is_not_refused_by_the_flood(
    services: Services, make_user: Callable[..., int]
) -> None:
    user_id = make_user("ada@example.com")
    for n in range(services.settings.sign_in_ip_limit + 5):
        flows.sign_in_with_password(services, email=f"nobody{n}@example.com", password="x" * 9, ip=FLOODER)
    ok = flows.sign_in_with_password(services, email="ada@example.com", password=STRONG_PASSWORD, ip="192.0.2.1")
    assert user_of(ok) == user_id


def test_registrations_per_ip_are_limited_and_refused_ones_cost_no_hash(
    services: Services, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bcrypt

    from fuzzydice.auth import passwords

    hashes: list[bytes] = []
    real_hashpw = bcrypt.hashpw
    monkeypatch.setattr(passwords.bcrypt, "hashpw", lambda pw, salt: hashes.append(salt) or real_hashpw(pw, salt))
    limit = services.settings.register_ip_limit
    assert limit == 10
    results = [
        flows.register(services, name="Bot", email=f"bot{n}@example.com", password=STRONG_PASSWORD, ip=FLOODER)
        for n in range(limit + 5)
    ]
    assert [r.ok for r in results] == [True] * limit + [False] * 5
    assert all(r.code == Code.RATE_LIMITED and r.retry_at > clock.now() for r in results[limit:])
    assert len(hashes) == limit  # the refused ones hashed nothing
    with services.db() as session:
        assert session.execute(sa.select(sa.func.count()).select_from(User)).scalar_one() == limit
    # Another address may register; after the window this one may again.
    assert flows.register(services, name="Ada", email="ada@example.com", password=STRONG_PASSWORD, ip="192.0.2.1").ok
    clock.advance(services.settings.register_ip_window)
    assert flows.register(services, name="Bo", email="bo@example.com", password=STRONG_PASSWORD, ip=FLOODER).ok


def test_500_challenge_requests_from_one_ip_create_at_most_the_limit_of_rows(services: Services) -> None:
    limit = services.settings.siwe_challenge_ip_limit
    assert limit == 30
    account = Account.create()

    def ten_requests() -> list:
        return [begin(services, account, ip=FLOODER) for _ in range(10)]

    answers = [c for batch in run_in_parallel(ten_requests, workers=50) for c in batch]
    assert len(answers) == 500
    assert sum(c.ok for c in answers) == limit
    assert all(c.code == Code.RATE_LIMITED and c.retry_at is not None for c in answers if not c.ok)
    with services.db() as session:
        assert session.execute(sa.select(sa.func.count()).select_from(SiweChallenge)).scalar_one() == limit


def test_wallet_sign_in_completions_per_ip_are_limited_before_any_check(services: Services) -> None:
    limit = services.settings.wallet_sign_in_ip_limit
    for n in range(limit):
        bogus = wallet_flows.complete_sign_in(services, nonce=f"nonce{n}", signature="0x00", binding=TAB, ip=FLOODER)
        assert bogus.code == Code.CHALLENGE_UNKNOWN
    account = Account.create()
    issued = challenge(services, account)
    signature = sign(account, issued.message)
    refused = wallet_flows.complete_sign_in(services, nonce=issued.nonce, signature=signature, binding=TAB, ip=FLOODER)
    assert refused.code == Code.RATE_LIMITED
    # Refused before the challenge was touched: it still works from elsewhere.
    done = wallet_flows.complete_sign_in(services, nonce=issued.nonce, signature=signature, binding=TAB, ip="192.0.2.1")
    assert done.ok


# --- bounded hashing: a flood of password flows cannot starve the rest of the app ----------------


def test_a_session_lookup_completes_while_password_flows_saturate_hashing(
    patient_hashing: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The guard looks the session up (``asyncio.to_thread(flows.current_session, …)``) before every event.
    While 40 sign-ins hold every hashing slot and the threads waiting for one, that lookup still completes:
    the password flows run on their own pool, as the login page runs them (`run_password_flow`)."""
    import bcrypt

    from fuzzydice.auth import passwords

    services = patient_hashing
    user_id = flows.register(services, name="Ada", email="ada@example.com", password=STRONG_PASSWORD).value.user_id
    token = full_session(services, user_id)
    slots = services.settings.hash_concurrency or os.cpu_count()
    inside: list[int] = []
    release = threading.Event()
    real_checkpw = bcrypt.checkpw

    def held_checkpw(password: bytes, hashed: bytes) -> bool:
        inside.append(1)
        release.wait(timeout=120)
        return real_checkpw(password, hashed)

    monkeypatch.setattr(passwords.bcrypt, "checkpw", held_checkpw)

    async def scenario():
        finished: list[str] = []

        async def sign_in(n: int) -> None:
            await run_password_flow(
                services.settings, flows.sign_in_with_password, services,
                email=f"nobody{n}@example.com", password="whatever123", ip=f"10.0.{n}.1",
            )
            finished.append("sign-in")

        sign_ins = [asyncio.create_task(sign_in(n)) for n in range(40)]
        lookup = None
        try:
            for _ in range(3000):  # until every hashing slot is held inside bcrypt (bounded)
                if len(inside) >= slots:
                    break
                await asyncio.sleep(0.01)
            assert len(inside) == slots
            lookup = asyncio.create_task(asyncio.to_thread(flows.current_session, services, token))
            done, _ = await asyncio.wait({lookup}, timeout=30)  # a safety bound so a failure ends; not a measure
            finished.append("lookup" if done else "lookup still waiting behind the password flows")
        finally:
            release.set()
        await asyncio.gather(*sign_ins)
        return finished, await lookup

    finished, info = asyncio.run(scenario())
    assert finished[0] == "lookup"  # it completed while all 40 sign-ins were still held
    assert finished.count("sign-in") == 40
    assert info is not None and info.user_id == user_id


def test_with_every_hashing_slot_taken_password_flows_answer_busy_at_once_and_count_nothing(
    tmp_path: Path, db_url: str, clock: FixedClock, checkpw_calls: list[bytes]
) -> None:
    services = build_services(make_settings(tmp_path, db_url, hash_concurrency=1, hash_wait=0), clock)
    assert flows.register(services, name="Ada", email="ada@example.com", password=STRONG_PASSWORD).ok
    services.hasher.dummy_hash()
    holding, release = threading.Event(), threading.Event()

    def hold_the_only_slot() -> None:
        with services.hasher.slot():
            holding.set()
            release.wait(timeout=60)

    holder = threading.Thread(target=hold_the_only_slot)
    holder.start()
    try:
        assert holding.wait(timeout=30)
        busy = flows.sign_in_with_password(services, email="ada@example.com", password=STRONG_PASSWORD, ip=FLOODER)
        registration = flows.register(services, name="Bo", email="bo@example.com", password=STRONG_PASSWORD, ip=FLOODER)
    finally:
        release.set()
        holder.join(timeout=30)
    assert busy.code == registration.code == Code.BUSY
    assert busy.retry_at >= clock.now() + timedelta(seconds=1)
    assert checkpw_calls == []
    with services.db() as session:
        assert session.execute(sa.select(sa.func.count()).select_from(SignInThrottle)).scalar_one() == 0  # not counted
    assert flows.sign_in_with_password(services, email="ada@example.com", password=STRONG_PASSWORD, ip=FLOODER).ok
    services.engine.dispose()


def test_the_password_pool_refuses_beyond_its_bound_at_once() -> None:
    pool = PasswordPool(threads=1, queue=1)
    release = threading.Event()

    async def scenario():
        running = asyncio.create_task(pool.run(release.wait, 60))
        queued = asyncio.create_task(pool.run(lambda: "queued"))
        await asyncio.sleep(0)  # both are submitted
        with pytest.raises(PoolBusy):
            await pool.run(lambda: "refused")
        release.set()
        return await running, await queued

    assert asyncio.run(scenario()) == (True, "queued")


def test_a_full_pool_gives_the_flows_own_busy_answer(monkeypatch, settings) -> None:
    from fuzzydice.auth import password_pool

    monkeypatch.setattr(password_pool, "_pool", PasswordPool(threads=1, queue=0))
    release = threading.Event()

    async def scenario():
        running = asyncio.create_task(run_password_flow(settings, release.wait, 60))
        await asyncio.sleep(0)
        answer = await run_password_flow(settings, lambda: "ran", when_busy=Failure(Code.BUSY))
        with pytest.raises(PoolBusy):  # without a busy answer the caller hears it as an exception
            await run_password_flow(settings, lambda: "ran")
        release.set()
        await running
        return answer

    assert asyncio.run(scenario()) == Failure(Code.BUSY)
