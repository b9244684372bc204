"""The second-step lock: 5 failures (all factors together) in 15 minutes lock the step for 15 minutes.

Failures count in a sliding window: those of the last 15 minutes, wherever the clock
stands, so no more than 5 codes are evaluated in any 15 minutes. The lock has two
scopes: codes from a first-factor session count for sign-in, codes from a full session
for step-up. Codes in flight hold a slot until they are settled.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from fuzzydice import audit
from fuzzydice.clock import FixedClock
from fuzzydice.mfa import flows, lock, totp
from fuzzydice.outcome import Code, Failure, Outcome
from fuzzydice.ui.messages import say
from fuzzydice.models import SecondFactorLock
from fuzzydice.services import Services
from tests.conftest import full_session, pending_session, run_in_parallel, session_id_of
from tests.mfa.conftest import Enrolled, audit_events, code_at, failure_count, lock_row, raw, wrong_code

MINUTE = 60


def wrong_answer(left: int) -> Failure:
    """The answer to a wrong code that leaves `left` attempts."""
    return Failure(Code.WRONG_CODE, attempts_left=left)


def refused(until: datetime) -> Failure:
    """The answer to any code while the step is locked (the code is not looked at)."""
    return Failure(Code.LOCKED, attempts_left=0, retry_at=until)


def locking(until: datetime) -> Failure:
    """The answer to the wrong code that locks the step."""
    return Failure(Code.WRONG_CODE, attempts_left=0, retry_at=until)


def lock_ends(services: Services) -> datetime:
    """When a lock set now lifts."""
    return services.clock.now() + services.settings.second_factor_lock


def signing_in(services: Services, user: Enrolled) -> int:
    """A new first-factor session of `user` (the password again; a first-factor session lasts 10 minutes)."""
    return pending_session(services, user.user_id)[1]


def fail(
    services: Services, user: Enrolled, times: int, method: flows.Method = flows.TOTP, session_id: int | None = None
) -> list[Outcome[None]]:
    typed = wrong_code(services, user.secret) if method == flows.TOTP else "AAAA-AAAA-AAAA-AAAA"
    sid = session_id or user.session_id
    results = [
        flows.verify_second_step(services, user_id=user.user_id, session_id=sid, code=typed, method=method)
        for _ in range(times)
    ]
    assert not any(result.ok for result in results)
    return results


def correct(services: Services, user: Enrolled, session_id: int | None = None) -> Outcome[None]:
    return flows.verify_second_step(
        services, user_id=user.user_id, session_id=session_id or user.session_id, code=code_at(services, user.secret)
    )




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
    assert results[:4] == [wrong_answer(n) for n in (4, 3, 2, 1)]
    assert all(r.retry_at is None for r in results[:4])
    assert results[4] == locking(lock_ends(services))
    assert flows.attempts_left(services, enrolled.user_id) == 0


def test_the_locked_message_names_the_time_the_lock_lifts(services: Services, clock: FixedClock, enrolled: Enrolled) -> None:
    # The pinned clock starts at 00:00:00 UTC; enrolment moved it one step (30 s) on.
    assert clock.now().strftime("%H:%M:%S") == "00:00:30"
    fifth = fail(services, enrolled, 5)[-1]
    assert fifth == locking(clock.now() + timedelta(minutes=15))
    assert "after 00:15 UTC" in say(fifth, services.settings)
    clock.advance(5 * MINUTE)
    later = fail(services, enrolled, 1)[0]
    assert later == refused(fifth.retry_at)
    assert "after 00:15 UTC" in say(later, services.settings)
    assert lock_row(services, enrolled.user_id).locked_until == fifth.retry_at


def test_the_correct_code_during_the_lock_looks_like_a_wrong_one(services: Services, enrolled: Enrolled) -> None:
    until = lock_ends(services)
    assert fail(services, enrolled, 5)[-1] == locking(until)
    wrong_now = fail(services, enrolled, 1)[0]
    right_now = correct(services, enrolled)
    assert right_now == wrong_now == refused(until)
    backup = flows.verify_second_step(
        services, user_id=enrolled.user_id, session_id=enrolled.session_id, code=enrolled.backup_codes[0], method=flows.BACKUP
    )
    assert backup == refused(until)
    assert flows.remaining_backup_codes(services, enrolled.user_id) == 10  # the refused code was not spent


def test_the_lock_lasts_fifteen_minutes(services: Services, clock: FixedClock, enrolled: Enrolled) -> None:
    until = lock_ends(services)
    fail(services, enrolled, 5)
    clock.advance(15 * MINUTE - 1)
    again = signing_in(services, enrolled)  # the first-factor session has ended by now; the lock has not
    assert correct(services, enrolled, again) == refused(until)
    assert flows.attempts_left(services, enrolled.user_id) == 0
    clock.advance(1)
    assert flows.attempts_left(services, enrolled.user_id) == 5
    assert correct(services, enrolled, again).ok


def test_attempts_during_the_lock_do_not_extend_it(services: Services, clock: FixedClock, enrolled: Enrolled) -> None:
    fail(services, enrolled, 5)
    locked_until = lock_row(services, enrolled.user_id).locked_until
    clock.advance(14 * MINUTE)
    again = signing_in(services, enrolled)
    assert fail(services, enrolled, 3, session_id=again) == [refused(locked_until)] * 3
    assert correct(services, enrolled, again) == refused(locked_until)
    assert lock_row(services, enrolled.user_id).locked_until == locked_until
    clock.advance(1 * MINUTE)
    assert correct(services, enrolled, again).ok


def test_after_the_lock_the_count_starts_afresh(services: Services, clock: FixedClock, enrolled: Enrolled) -> None:
    fail(services, enrolled, 5)
    clock.advance(15 * MINUTE)
    again = signing_in(services, enrolled)
    assert [r.attempts_left for r in fail(services, enrolled, 5, session_id=again)] == [4, 3, 2, 1, 0]


def test_failures_older_than_the_window_are_forgotten(services: Services, clock: FixedClock, enrolled: Enrolled) -> None:
    fail(services, enrolled, 4)
    clock.advance(15 * MINUTE)
    again = signing_in(services, enrolled)
    assert fail(services, enrolled, 1, session_id=again)[0].attempts_left == 4


def test_failures_within_the_window_still_count(services: Services, clock: FixedClock, enrolled: Enrolled) -> None:
    # The window starts at the first failure, not at the last success (activation, a minute earlier).
    clock.advance(1 * MINUTE)
    fail(services, enrolled, 4)
    clock.advance(15 * MINUTE - 1)
    again = signing_in(services, enrolled)
    assert fail(services, enrolled, 1, session_id=again) == [locking(lock_ends(services))]


def test_the_window_starts_at_the_first_failure_after_a_success(
    services: Services, clock: FixedClock, enrolled: Enrolled
) -> None:
    # The activation attempt (one step ago) opened a window; this success lands 13.5 minutes into it.
    clock.advance(13 * MINUTE)
    again = signing_in(services, enrolled)
    assert correct(services, enrolled, again).ok
    clock.advance(30)
    fail(services, enrolled, 4, session_id=again)  # 14 minutes into that first window
    clock.advance(2 * MINUTE)  # past it, but only 2 minutes after the failures
    assert fail(services, enrolled, 1, session_id=again) == [locking(lock_ends(services))]


@pytest.mark.parametrize("empty", ["", "   ", "\t\n"])
def test_an_empty_code_counts_as_a_failure(services: Services, enrolled: Enrolled, empty: str) -> None:
    for method in (flows.TOTP, flows.BACKUP):
        flows.verify_second_step(
            services, user_id=enrolled.user_id, session_id=enrolled.session_id, code=empty, method=method
        )
    result = flows.verify_second_step(services, user_id=enrolled.user_id, session_id=enrolled.session_id, code=empty)
    assert result == wrong_answer(2)


def test_malformed_codes_count_and_never_raise(services: Services, enrolled: Enrolled) -> None:
    typed = ["١٢٣٤٥٦", "12345", "abcdef", "１２３４５６"]
    sid = enrolled.session_id
    results = [flows.verify_second_step(services, user_id=enrolled.user_id, session_id=sid, code=code) for code in typed]
    results.append(
        flows.verify_second_step(
            services, user_id=enrolled.user_id, session_id=sid, code="not a backup code", method=flows.BACKUP
        )
    )
    assert [r.attempts_left for r in results] == [4, 3, 2, 1, 0]


def test_success_resets_the_count(services: Services, clock: FixedClock, enrolled: Enrolled) -> None:
    fail(services, enrolled, 4)
    assert correct(services, enrolled).ok
    assert flows.attempts_left(services, enrolled.user_id) == 5
    assert fail(services, enrolled, 1)[0].attempts_left == 4
    backup = flows.verify_second_step(
        services, user_id=enrolled.user_id, session_id=enrolled.session_id, code=enrolled.backup_codes[0], method=flows.BACKUP
    )
    assert backup.ok
    assert fail(services, enrolled, 4)[-1].attempts_left == 1


def test_totp_and_backup_failures_count_together(services: Services, enrolled: Enrolled) -> None:
    until = lock_ends(services)
    assert [r.attempts_left for r in fail(services, enrolled, 3, "totp")] == [4, 3, 2]
    assert [r.attempts_left for r in fail(services, enrolled, 2, flows.BACKUP)] == [1, 0]
    backup = flows.verify_second_step(
        services, user_id=enrolled.user_id, session_id=enrolled.session_id, code=enrolled.backup_codes[0], method=flows.BACKUP
    )
    assert backup == refused(until)
    assert correct(services, enrolled) == refused(until)


def test_the_lock_is_per_account(services: Services, make_user: Callable[..., int], enrolled: Enrolled) -> None:
    from tests.mfa.conftest import enrol

    other = enrol(services, make_user())
    fail(services, enrolled, 5)
    assert correct(services, other).ok
    assert flows.attempts_left(services, other.user_id) == 5
    assert flows.attempts_left(services, enrolled.user_id) == 0


def test_failures_from_any_first_factor_session_count_together(services: Services, enrolled: Enrolled) -> None:
    # The sign-in lock belongs to the account: a fresh password sign-in does not get a fresh count.
    assert [r.attempts_left for r in fail(services, enrolled, 3)] == [4, 3, 2]
    again = signing_in(services, enrolled)
    assert [r.attempts_left for r in fail(services, enrolled, 2, session_id=again)] == [1, 0]
    assert correct(services, enrolled, signing_in(services, enrolled)) == refused(lock_ends(services))


def test_wrong_activation_codes_count_towards_the_lock(services: Services, make_user: Callable[..., int]) -> None:
    user_id = make_user()
    _, sid = pending_session(services, user_id)
    secret = flows.pending_enrolment(services, user_id=user_id, session_id=sid).value.secret
    until = lock_ends(services)
    results = [
        flows.activate_totp(services, user_id=user_id, session_id=sid, code=wrong_code(services, secret)) for _ in range(5)
    ]
    assert [r.attempts_left for r in results] == [4, 3, 2, 1, 0]
    assert results[-1] == locking(until)
    assert flows.activate_totp(services, user_id=user_id, session_id=sid, code=code_at(services, secret)) == refused(until)


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
    until = lock_ends(services)
    results = run_in_parallel(
        lambda: flows.verify_second_step(services, user_id=enrolled.user_id, session_id=enrolled.session_id, code=bad),
        workers=50,
    )

    assert len(results) == 50 and not any(r.ok for r in results)
    # Slots are only given back by a success, so the five are all taken and all evaluated.
    assert len(evaluated) == services.settings.second_factor_max_failures
    checked = [r for r in results if r.code == Code.WRONG_CODE]
    assert sorted(r.attempts_left for r in checked) == [0, 1, 2, 3, 4]
    assert [r for r in checked if r.attempts_left == 0] == [locking(until)]
    # Every other answer says the code was not looked at: busy (others in flight) or locked.
    assert all(r in (Failure(Code.BUSY), refused(until)) for r in results if r not in checked)
    # The account ends locked: even the right code is refused now, unevaluated.
    assert lock_row(services, enrolled.user_id).locked_until == until
    evaluated.clear()
    assert correct(services, enrolled) == refused(until)
    assert evaluated == []
    assert len(audit_events(services, enrolled.user_id, audit.Action.SECOND_STEP_LOCKED)) == 1


def test_an_attempt_on_a_user_without_a_second_factor_is_not_offered(
    services: Services, make_user: Callable[..., int]
) -> None:
    # Nothing could be right: the journey offers no method (the next step is enrolment), and nothing is counted.
    user_id = make_user()
    _, sid = pending_session(services, user_id)
    result = flows.verify_second_step(services, user_id=user_id, session_id=sid, code="123456")
    assert result == Failure(Code.METHOD_NOT_OFFERED)
    backup = flows.verify_second_step(
        services, user_id=user_id, session_id=sid, code=raw("AAAA-AAAA-AAAA-AAAA"), method=flows.BACKUP
    )
    assert backup == Failure(Code.METHOD_NOT_OFFERED)
    assert flows.attempts_left(services, user_id) == 5


# --- the session decides the scope ------------------------------------------------------


def test_step_up_failures_do_not_lock_sign_in(services: Services, enrolled: Enrolled) -> None:
    owner = session_id_of(services, full_session(services, enrolled.user_id))
    until = lock_ends(services)
    assert [r.attempts_left for r in fail(services, enrolled, 5, session_id=owner)] == [4, 3, 2, 1, 0]
    assert correct(services, enrolled, owner) == refused(until)
    assert flows.attempts_left(services, enrolled.user_id, lock.STEP_UP) == 0
    assert flows.attempts_left(services, enrolled.user_id, lock.SIGN_IN) == 5
    sign_in = lock_row(services, enrolled.user_id, lock.SIGN_IN)  # written by the activation
    assert (failure_count(sign_in), sign_in.in_flight, sign_in.locked_until) == (0, 0, None)
    # A sign-in (a first-factor session) still takes its code.
    assert correct(services, enrolled).ok


def test_wrong_codes_from_a_session_that_ended_count_nowhere(
    services: Services, clock: FixedClock, enrolled: Enrolled
) -> None:
    clock.advance(services.settings.pending_second_step)
    result = flows.verify_second_step(
        services, user_id=enrolled.user_id, session_id=enrolled.session_id, code=wrong_code(services, enrolled.secret)
    )
    assert result == Failure(Code.SESSION_ENDED)
    assert flows.attempts_left(services, enrolled.user_id) == 5
    assert lock_row(services, enrolled.user_id).in_flight == 0


def test_a_session_of_another_user_is_refused_and_counts_nowhere(
    services: Services, make_user: Callable[..., int], enrolled: Enrolled
) -> None:
    _, theirs = pending_session(services, make_user())
    result = flows.verify_second_step(
        services, user_id=enrolled.user_id, session_id=theirs, code=code_at(services, enrolled.secret)
    )
    assert result == Failure(Code.SESSION_ENDED)
    assert flows.attempts_left(services, enrolled.user_id) == 5
    assert lock_row(services, enrolled.user_id).in_flight == 0
    assert correct(services, enrolled).ok  # the code was not spent either


# --- the owner is told -----------------------------------------------------------------------


def test_a_sign_in_lock_writes_one_audit_event_with_the_ip(services: Services, enrolled: Enrolled) -> None:
    fail(services, enrolled, 4)
    assert audit_events(services, enrolled.user_id, audit.Action.SECOND_STEP_LOCKED) == []
    fail(services, enrolled, 1)
    fail(services, enrolled, 3)  # refused during the lock: nothing more is recorded
    events = audit_events(services, enrolled.user_id, audit.Action.SECOND_STEP_LOCKED)
    assert len(events) == 1
    assert len(audit_events(services, enrolled.user_id, audit.Action.SECOND_STEP)) == 5  # the five wrong codes
    assert events[0].kind == audit.Action.SECOND_STEP_LOCKED == "second_step_locked"
    assert events[0].ip == "203.0.113.10"  # where the pending session (the one with the password) came from
    assert events[0].created_at == services.clock.now()
    assert audit.alerts(services, enrolled.user_id) == [
        audit.Alert(kind=audit.Action.SECOND_STEP_LOCKED, ip="203.0.113.10", created_at=services.clock.now())
    ]


def test_a_step_up_lock_writes_no_audit_event(services: Services, enrolled: Enrolled) -> None:
    owner = session_id_of(services, full_session(services, enrolled.user_id))
    fail(services, enrolled, 5, session_id=owner)
    assert flows.attempts_left(services, enrolled.user_id, lock.STEP_UP) == 0
    assert audit_events(services, enrolled.user_id, audit.Action.SECOND_STEP_LOCKED) == []
    assert audit.alerts(services, enrolled.user_id) == []


# --- answers that do not count -----------------------------------------------------------------


def test_a_replayed_valid_code_is_refused_without_counting(
    services: Services, clock: FixedClock, enrolled: Enrolled
) -> None:
    code = code_at(services, enrolled.secret)
    assert correct(services, enrolled).ok
    assert [r.attempts_left for r in fail(services, enrolled, 2)] == [4, 3]
    replayed = flows.verify_second_step(services, user_id=enrolled.user_id, session_id=enrolled.session_id, code=code)
    assert replayed == Failure(Code.CODE_ALREADY_USED)
    assert lock_row(services, enrolled.user_id).in_flight == 0  # its slot was given back
    assert fail(services, enrolled, 1)[0] == wrong_answer(2)


def test_busy_when_every_slot_is_held_by_a_code_in_flight(services: Services, enrolled: Enrolled) -> None:
    settings, now, user_id = services.settings, services.clock.now(), enrolled.user_id
    with services.db() as session:
        for _ in range(settings.second_factor_max_failures):
            assert lock.reserve_attempt(session, user_id, lock.SIGN_IN, now, settings) is None
    busy = correct(services, enrolled)
    assert busy == Failure(Code.BUSY)
    assert busy.attempts_left is None and busy.retry_at is None
    assert failure_count(lock_row(services, user_id)) == 0  # not counted
    with services.db() as session:
        lock.release(session, user_id, lock.SIGN_IN)
    assert correct(services, enrolled).ok  # the same code, once a slot is free


# --- the mechanism directly ----------------------------------------------------------


def test_reserve_and_record_directly(services: Services, clock: FixedClock, make_user: Callable[..., int]) -> None:
    user_id, settings = make_user(), services.settings
    with services.db() as session:
        assert lock.attempts_left(session, user_id, lock.SIGN_IN, clock.now(), settings) == 5
        for expected in range(1, 6):
            assert lock.reserve_attempt(session, user_id, lock.SIGN_IN, clock.now(), settings) is None
            left, until = lock.record_failure(session, user_id, lock.SIGN_IN, clock.now(), settings)
            assert left == 5 - expected
            assert until == (clock.now() + settings.second_factor_lock if expected == 5 else None)
        refusal = lock.reserve_attempt(session, user_id, lock.SIGN_IN, clock.now(), settings)
        assert refusal == lock.Refused(locked_until=clock.now() + settings.second_factor_lock)
        assert not refusal.busy
        assert lock.attempts_left(session, user_id, lock.SIGN_IN, clock.now(), settings) == 0
        assert lock.locked_until(session, user_id, lock.SIGN_IN, clock.now()) == refusal.locked_until
        row = session.get(SecondFactorLock, (user_id, lock.SIGN_IN))
        assert row.locked_until == clock.now() + settings.second_factor_lock
        assert (failure_count(row), row.in_flight) == (5, 0)
        # The other scope is untouched.
        assert lock.attempts_left(session, user_id, lock.STEP_UP, clock.now(), settings) == 5
        assert lock.locked_until(session, user_id, lock.STEP_UP, clock.now()) is None

        clock.advance(settings.second_factor_lock)
        assert lock.attempts_left(session, user_id, lock.SIGN_IN, clock.now(), settings) == 5
        assert lock.locked_until(session, user_id, lock.SIGN_IN, clock.now()) is None
        assert lock.reserve_attempt(session, user_id, lock.SIGN_IN, clock.now(), settings) is None
        lock.record_success(session, user_id, lock.SIGN_IN)
        assert lock.attempts_left(session, user_id, lock.SIGN_IN, clock.now(), settings) == 5
        session.expire_all()
        row = session.get(SecondFactorLock, (user_id, lock.SIGN_IN))
        assert (failure_count(row), row.in_flight, row.locked_until) == (0, 0, None)


def test_codes_in_flight_hold_their_slots(services: Services, make_user: Callable[..., int]) -> None:
    user_id, settings, now = make_user(), services.settings, services.clock.now()

    def state(session) -> tuple[int, int]:
        session.expire_all()
        row = session.get(SecondFactorLock, (user_id, lock.SIGN_IN))
        return failure_count(row), row.in_flight

    with services.db() as session:
        for _ in range(5):
            assert lock.reserve_attempt(session, user_id, lock.SIGN_IN, now, settings) is None
        assert state(session) == (0, 5)
        refusal = lock.reserve_attempt(session, user_id, lock.SIGN_IN, now, settings)
        assert refusal == lock.Refused() and refusal.busy
        # A failure moves its slot to the failures: still no room.
        assert lock.record_failure(session, user_id, lock.SIGN_IN, now, settings) == (4, None)
        assert state(session) == (1, 4)
        assert lock.reserve_attempt(session, user_id, lock.SIGN_IN, now, settings).busy
        # A success forgives the failures, not the slots other codes hold.
        lock.record_success(session, user_id, lock.SIGN_IN)
        assert state(session) == (0, 3)
        assert lock.reserve_attempt(session, user_id, lock.SIGN_IN, now, settings) is None
        assert lock.reserve_attempt(session, user_id, lock.SIGN_IN, now, settings) is None
        assert lock.reserve_attempt(session, user_id, lock.SIGN_IN, now, settings).busy
        assert state(session) == (0, 5)
        # A release gives a slot back uncounted.
        lock.release(session, user_id, lock.SIGN_IN)
        assert state(session) == (0, 4)
        assert lock.attempts_left(session, user_id, lock.SIGN_IN, now, settings) == 5
        assert lock.reserve_attempt(session, user_id, lock.SIGN_IN, now, settings) is None
        # The five in flight all fail: the last one locks.
        outcomes = [lock.record_failure(session, user_id, lock.SIGN_IN, now, settings) for _ in range(5)]
        assert [left for left, _ in outcomes] == [4, 3, 2, 1, 0]
        assert outcomes[-1][1] == now + settings.second_factor_lock
        assert state(session) == (5, 0)


def test_slots_of_requests_that_died_are_freed_with_the_window(
    services: Services, clock: FixedClock, make_user: Callable[..., int]
) -> None:
    user_id, settings = make_user(), services.settings
    with services.db() as session:
        assert lock.reserve_attempt(session, user_id, lock.SIGN_IN, clock.now(), settings) is None
        assert lock.record_failure(session, user_id, lock.SIGN_IN, clock.now(), settings) == (4, None)
        for _ in range(4):  # these never settle
            assert lock.reserve_attempt(session, user_id, lock.SIGN_IN, clock.now(), settings) is None
        assert lock.reserve_attempt(session, user_id, lock.SIGN_IN, clock.now(), settings).busy
        clock.advance(settings.second_factor_failure_window - timedelta(seconds=1))
        assert lock.reserve_attempt(session, user_id, lock.SIGN_IN, clock.now(), settings).busy
        clock.advance(1)
        assert lock.reserve_attempt(session, user_id, lock.SIGN_IN, clock.now(), settings) is None
        session.expire_all()
        row = session.get(SecondFactorLock, (user_id, lock.SIGN_IN))
        assert (failure_count(row), row.in_flight, row.last_reserved_at) == (0, 1, clock.now())


def test_scopes_are_counted_apart(services: Services, make_user: Callable[..., int]) -> None:
    user_id, settings, now = make_user(), services.settings, services.clock.now()
    with services.db() as session:
        for _ in range(5):
            assert lock.reserve_attempt(session, user_id, lock.SIGN_IN, now, settings) is None
            lock.record_failure(session, user_id, lock.SIGN_IN, now, settings)
        assert lock.reserve_attempt(session, user_id, lock.SIGN_IN, now, settings) == lock.Refused(
            locked_until=now + settings.second_factor_lock
        )
        assert lock.reserve_attempt(session, user_id, lock.STEP_UP, now, settings) is None
        assert lock.record_failure(session, user_id, lock.STEP_UP, now, settings) == (4, None)
        # A step-up success does not lift the sign-in lock.
        assert lock.reserve_attempt(session, user_id, lock.STEP_UP, now, settings) is None
        lock.record_success(session, user_id, lock.STEP_UP)
        assert lock.attempts_left(session, user_id, lock.SIGN_IN, now, settings) == 0
        assert lock.attempts_left(session, user_id, lock.STEP_UP, now, settings) == 5


def test_parallel_reservations_take_exactly_the_allowed_slots(services: Services, make_user: Callable[..., int]) -> None:
    user_id, settings, now = make_user(), services.settings, services.clock.now()

    def reserve() -> lock.Refused | None:
        with services.db() as session:
            return lock.reserve_attempt(session, user_id, lock.SIGN_IN, now, settings)

    taken = run_in_parallel(reserve, workers=50)
    assert taken.count(None) == 5
    assert [t for t in taken if t is not None] == [lock.Refused()] * 45  # busy, not locked
    row = lock_row(services, user_id)
    assert (failure_count(row), row.in_flight, row.locked_until) == (0, 5, None)
