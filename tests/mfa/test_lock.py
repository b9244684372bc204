"""The second-step lock: 5 failures (all factors together) in 15 minutes lock the step for 15 minutes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from fuzzydice.clock import FixedClock
from fuzzydice.mfa import flows, lock, totp
from fuzzydice.mfa.flows import SecondStepResult
from fuzzydice.models import SecondFactorLock
from fuzzydice.services import Services
from tests.conftest import run_in_parallel
from tests.mfa.conftest import Enrolled, code_at, raw, wrong_code

LOCKED = SecondStepResult(False, "That code is not right. No attempts left: try again in 15 minutes.", 0)
MINUTE = 60


def left_message(left: int) -> str:
    return f"That code is not right. {left} {'attempt' if left == 1 else 'attempts'} left."


def fail(services: Services, user: Enrolled, times: int, method: flows.Method = "totp") -> list[SecondStepResult]:
    typed = wrong_code(services, user.secret) if method == "totp" else "AAAA-AAAA-AAAA-AAAA"
    results = [flows.verify_second_step(services, user.user_id, typed, method) for _ in range(times)]
    assert not any(result.ok for result in results)
    return results


def correct(services: Services, user: Enrolled) -> SecondStepResult:
    return flows.verify_second_step(services, user.user_id, code_at(services, user.secret))


def lock_row(services: Services, user_id: int) -> SecondFactorLock | None:
    with services.db() as session:
        return session.get(SecondFactorLock, user_id)


# --- through the flows -------------------------------------------------------------


def test_policy_defaults() -> None:
    from fuzzydice.settings import Settings

    fields = Settings.model_fields
    assert fields["second_factor_max_failures"].default == 5
    assert fields["second_factor_failure_window"].default == timedelta(minutes=15)
    assert fields["second_factor_lock"].default == timedelta(minutes=15)


def test_attempts_left_count_down_to_the_lock(services: Services, enrolled: Enrolled) -> None:
    results = fail(services, enrolled, 5)
    assert [r.attempts_left for r in results] == [4, 3, 2, 1, 0]
    assert [r.message for r in results[:4]] == [left_message(n) for n in (4, 3, 2, 1)]
    assert results[1].message == "That code is not right. 3 attempts left."
    assert results[3].message == "That code is not right. 1 attempt left."
    assert results[4] == LOCKED
    assert flows.attempts_left(services, enrolled.user_id) == 0


def test_the_correct_code_during_the_lock_looks_like_a_wrong_one(services: Services, enrolled: Enrolled) -> None:
    fifth = fail(services, enrolled, 5)[-1]
    sixth = correct(services, enrolled)
    assert sixth == fifth == LOCKED
    backup = flows.verify_second_step(services, enrolled.user_id, enrolled.backup_codes[0], "backup")
    assert backup == LOCKED
    assert flows.remaining_backup_codes(services, enrolled.user_id) == 10  # the refused code was not spent


def test_the_lock_lasts_fifteen_minutes(services: Services, clock: FixedClock, enrolled: Enrolled) -> None:
    fail(services, enrolled, 5)
    clock.advance(15 * MINUTE - 1)
    assert correct(services, enrolled) == LOCKED
    assert flows.attempts_left(services, enrolled.user_id) == 0
    clock.advance(1)
    assert flows.attempts_left(services, enrolled.user_id) == 5
    assert correct(services, enrolled).ok


def test_attempts_during_the_lock_do_not_extend_it(services: Services, clock: FixedClock, enrolled: Enrolled) -> None:
    fail(services, enrolled, 5)
    locked_until = lock_row(services, enrolled.user_id).locked_until
    clock.advance(14 * MINUTE)
    assert fail(services, enrolled, 3) == [LOCKED] * 3
    assert correct(services, enrolled) == LOCKED
    assert lock_row(services, enrolled.user_id).locked_until == locked_until
    clock.advance(1 * MINUTE)
    assert correct(services, enrolled).ok


def test_after_the_lock_the_count_starts_afresh(services: Services, clock: FixedClock, enrolled: Enrolled) -> None:
    fail(services, enrolled, 5)
    clock.advance(15 * MINUTE)
    assert [r.attempts_left for r in fail(services, enrolled, 5)] == [4, 3, 2, 1, 0]


def test_failures_older_than_the_window_are_forgotten(services: Services, clock: FixedClock, enrolled: Enrolled) -> None:
    fail(services, enrolled, 4)
    clock.advance(15 * MINUTE)
    assert fail(services, enrolled, 1)[0].attempts_left == 4


def test_failures_within_the_window_still_count(services: Services, clock: FixedClock, enrolled: Enrolled) -> None:
    # The window starts at the first failure, not at the last success (activation, a minute earlier).
    clock.advance(1 * MINUTE)
    fail(services, enrolled, 4)
    clock.advance(15 * MINUTE - 1)
    assert fail(services, enrolled, 1) == [LOCKED]


def test_the_window_starts_at_the_first_failure_after_a_success(
    services: Services, clock: FixedClock, enrolled: Enrolled
) -> None:
    # The activation attempt (one step ago) opened a window; this success lands 13.5 minutes into it.
    clock.advance(13 * MINUTE)
    assert correct(services, enrolled).ok
    clock.advance(30)
    fail(services, enrolled, 4)  # 14 minutes into that first window
    clock.advance(2 * MINUTE)  # past it, but only 2 minutes after the failures
    assert fail(services, enrolled, 1) == [LOCKED]


@pytest.mark.parametrize("empty", ["", "   ", "\t\n"])
def test_an_empty_code_counts_as_a_failure(services: Services, enrolled: Enrolled, empty: str) -> None:
    for method in ("totp", "backup"):
        flows.verify_second_step(services, enrolled.user_id, empty, method)
    result = flows.verify_second_step(services, enrolled.user_id, empty)
    assert result == SecondStepResult(False, left_message(2), 2)


def test_malformed_codes_count_and_never_raise(services: Services, enrolled: Enrolled) -> None:
    typed = ["١٢٣٤٥٦", "12345", "abcdef", "１２３４５６"]
    results = [flows.verify_second_step(services, enrolled.user_id, code) for code in typed]
    results.append(flows.verify_second_step(services, enrolled.user_id, "not a backup code", "backup"))
    assert [r.attempts_left for r in results] == [4, 3, 2, 1, 0]


def test_success_resets_the_count(services: Services, clock: FixedClock, enrolled: Enrolled) -> None:
    fail(services, enrolled, 4)
    assert correct(services, enrolled).ok
    assert flows.attempts_left(services, enrolled.user_id) == 5
    assert fail(services, enrolled, 1)[0].attempts_left == 4
    assert flows.verify_second_step(services, enrolled.user_id, enrolled.backup_codes[0], "backup").ok
    assert fail(services, enrolled, 4)[-1].attempts_left == 1


def test_totp_and_backup_failures_count_together(services: Services, enrolled: Enrolled) -> None:
    assert [r.attempts_left for r in fail(services, enrolled, 3, "totp")] == [4, 3, 2]
    assert [r.attempts_left for r in fail(services, enrolled, 2, "backup")] == [1, 0]
    assert flows.verify_second_step(services, enrolled.user_id, enrolled.backup_codes[0], "backup") == LOCKED
    assert correct(services, enrolled) == LOCKED


def test_the_lock_is_per_account(services: Services, make_user: Callable[..., int], enrolled: Enrolled) -> None:
    from tests.mfa.conftest import enrol

    other = enrol(services, make_user())
    fail(services, enrolled, 5)
    assert correct(services, other).ok
    assert flows.attempts_left(services, other.user_id) == 5
    assert flows.attempts_left(services, enrolled.user_id) == 0


def test_wrong_activation_codes_count_towards_the_lock(services: Services, make_user: Callable[..., int]) -> None:
    user_id = make_user()
    secret = flows.pending_enrolment(services, user_id).secret
    results = [flows.activate_totp(services, user_id, wrong_code(services, secret)) for _ in range(5)]
    assert [r.attempts_left for r in results] == [4, 3, 2, 1, 0]
    assert flows.activate_totp(services, user_id, code_at(services, secret)) == LOCKED


def test_fifty_parallel_wrong_codes_evaluate_at_most_five(
    services: Services, enrolled: Enrolled, monkeypatch: pytest.MonkeyPatch
) -> None:
    evaluated: list[str] = []
    real = totp.matching_step

    def spy(secret, code, moment, settings):
        evaluated.append(code)
        return real(secret, code, moment, settings)

    monkeypatch.setattr(totp, "matching_step", spy)  # flows calls it as totp.matching_step
    bad = wrong_code(services, enrolled.secret)
    results = run_in_parallel(lambda: flows.verify_second_step(services, enrolled.user_id, bad), workers=50)

    assert len(results) == 50 and not any(r.ok for r in results)
    assert 1 <= len(evaluated) <= services.settings.second_factor_max_failures
    assert sum(r.attempts_left == 0 for r in results) == 50 - len(evaluated) + 1
    # The account ends locked: even the right code is refused now.
    assert lock_row(services, enrolled.user_id).locked_until is not None
    evaluated.clear()
    assert correct(services, enrolled) == LOCKED
    assert evaluated == []


# --- the mechanism directly ----------------------------------------------------------


def test_reserve_and_record_directly(services: Services, clock: FixedClock, make_user: Callable[..., int]) -> None:
    user_id, settings = make_user(), services.settings
    with services.db() as session:
        assert lock.attempts_left(session, user_id, clock.now(), settings) == 5
        for expected in range(1, 6):
            taken = lock.reserve_attempt(session, user_id, clock.now(), settings)
            assert taken == expected
            assert lock.record_failure(session, user_id, taken, clock.now(), settings) == 5 - expected
        assert lock.reserve_attempt(session, user_id, clock.now(), settings) is None
        assert lock.attempts_left(session, user_id, clock.now(), settings) == 0
        row = session.get(SecondFactorLock, user_id)
        assert row.locked_until == clock.now() + settings.second_factor_lock

        clock.advance(settings.second_factor_lock)
        assert lock.attempts_left(session, user_id, clock.now(), settings) == 5
        taken = lock.reserve_attempt(session, user_id, clock.now(), settings)
        assert taken == 1
        lock.record_success(session, user_id)
        assert lock.attempts_left(session, user_id, clock.now(), settings) == 5


def test_parallel_reservations_take_exactly_the_allowed_slots(services: Services, make_user: Callable[..., int]) -> None:
    user_id, settings, now = make_user(), services.settings, services.clock.now()

    def reserve() -> int | None:
        with services.db() as session:
            return lock.reserve_attempt(session, user_id, now, settings)

    taken = run_in_parallel(reserve, workers=50)
    assert sorted(t for t in taken if t is not None) == [1, 2, 3, 4, 5]
    assert taken.count(None) == 45


def test_an_attempt_on_a_user_without_totp_fails_and_counts(services: Services, make_user: Callable[..., int]) -> None:
    user_id = make_user()
    result = flows.verify_second_step(services, user_id, "123456")
    assert result == SecondStepResult(False, left_message(4), 4)
    assert flows.verify_second_step(services, user_id, raw("AAAA-AAAA-AAAA-AAAA"), "backup").attempts_left == 3
