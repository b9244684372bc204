"""Attack review #7, finding 9: the second-step lock must not be a weapon, nor leak guesses under load.

The lock lets 5 wrong second-factor codes through per window, then locks for 15 minutes.
Four ways to turn it against the owner or around itself:

- Lock-out: someone who has only the password signs in, types 5 wrong codes and locks
  the account. If that one lock also guarded step-up, the owner's own signed-in
  sessions could no longer confirm a sensitive change (new authenticator, new backup
  codes) while the thief holds the password: the lock is scoped, and a first-factor
  session's codes count for sign-in only.
- Self-lock: a browser or a client that sends the same valid code many times at once
  (double submit, retries) must not lock its owner: copies that lose the replay race
  are refused without counting.
- Burst around a success: codes are checked under reserved slots so that no more than
  5 wrong ones are ever evaluated. A success forgives the failures; if it also freed
  the slots of the wrong codes still being checked, a burst that straddles someone's
  success would get a second round of 5 guesses on top of the ones in flight.
- Around the end of a window (issue #8, point 9): with a fixed window, 4 guesses just
  before it ends and 5 just after were 8 or more in two minutes. Failures count in a
  sliding window: no more than 5 codes are checked in any 15 minutes.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

import pytest

from fuzzydice import audit
from fuzzydice.auth import flows as auth_flows
from fuzzydice.auth import step_up
from fuzzydice.auth.sessions import FIRST_FACTOR
from fuzzydice.mfa import flows, lock, totp
from fuzzydice.outcome import Code, Failure, Ok, Outcome
from fuzzydice.services import Services
from tests.conftest import TEST_TAB, full_session, pending_session, run_in_parallel, session_id_of
from tests.mfa.conftest import Enrolled, audit_events, code_at, failure_count, lock_row, wrong_code

THIEF_IP = "198.51.100.7"
MAX = 5


def thief_session(services: Services, user_id: int) -> int:
    """A first-factor session as the password alone earns it, from the thief's address; its id."""
    ticket = auth_flows.start_session_handoff(
        services, user_id=user_id, factor_level=FIRST_FACTOR, remember=False, next_path="/", tab=TEST_TAB
    )
    claimed = auth_flows.claim_session(
        services, ticket=ticket.ticket, bind=ticket.bind, tab=TEST_TAB, ip=THIEF_IP, user_agent="curl"
    )
    assert claimed is not None
    return session_id_of(services, claimed.token)


def submit(services: Services, user_id: int, session_id: int, code: str, method: flows.Method = flows.TOTP) -> Outcome[None]:
    return flows.verify_second_step(services, user_id=user_id, session_id=session_id, code=code, method=method)




def test_a_password_thiefs_wrong_codes_do_not_lock_the_owners_sessions_out_of_step_up(
    services: Services, enrolled: Enrolled
) -> None:
    owner_token = full_session(services, enrolled.user_id)
    owner = session_id_of(services, owner_token)
    thief = thief_session(services, enrolled.user_id)
    guess = wrong_code(services, enrolled.secret)

    answers = [submit(services, enrolled.user_id, thief, guess) for _ in range(MAX + 3)]

    assert [a.attempts_left for a in answers] == [4, 3, 2, 1, 0, 0, 0, 0]
    until = answers[MAX - 1].retry_at
    assert until == services.clock.now() + services.settings.second_factor_lock
    assert all(a.retry_at == until for a in answers[MAX - 1:])
    # Sign-in is locked for everyone: that is what stops the thief.
    locked = submit(services, enrolled.user_id, enrolled.session_id, code_at(services, enrolled.secret))
    assert locked == Failure(Code.LOCKED, attempts_left=0, retry_at=until)
    # The owner's signed-in session still confirms a sensitive change with the authenticator...
    assert submit(services, enrolled.user_id, owner, code_at(services, enrolled.secret)) == Ok()
    assert flows.attempts_left(services, enrolled.user_id, lock.STEP_UP) == MAX
    # ... and with a backup code, through the real step-up entry point.
    confirmed = step_up.confirm_second_factor(
        services, session_id=session_id_of(services, full_session(services, enrolled.user_id)),
        user_id=enrolled.user_id, code=enrolled.backup_codes[0], method=flows.BACKUP,
    )
    assert confirmed == Ok()
    assert flows.attempts_left(services, enrolled.user_id, lock.SIGN_IN) == 0
    # The owner is told, with the thief's address.
    assert audit.alerts(services, enrolled.user_id) == [
        audit.Alert(kind=audit.Action.SECOND_STEP_LOCKED, ip=THIEF_IP, created_at=services.clock.now())
    ]


def test_copies_of_a_valid_code_sent_at_once_do_not_lock_the_owner(services: Services, enrolled: Enrolled) -> None:
    code = code_at(services, enrolled.secret)

    burst = run_in_parallel(lambda: submit(services, enrolled.user_id, enrolled.session_id, code), workers=20)

    assert len(burst) == 20
    assert sum(r.ok for r in burst) == 1
    others = [r for r in burst if not r.ok]
    assert all(r in (Failure(Code.CODE_ALREADY_USED), Failure(Code.BUSY)) for r in others)
    # A browser that keeps resending it afterwards is told it was used, and nothing counts either.
    late = [submit(services, enrolled.user_id, enrolled.session_id, code) for _ in range(MAX + 1)]
    assert late == [Failure(Code.CODE_ALREADY_USED)] * (MAX + 1)

    row = lock_row(services, enrolled.user_id)
    assert (failure_count(row), row.in_flight, row.locked_until) == (0, 0, None)
    assert flows.attempts_left(services, enrolled.user_id) == MAX
    assert audit_events(services, enrolled.user_id, audit.Action.SECOND_STEP_LOCKED) == []
    assert [e.result for e in audit_events(services, enrolled.user_id, audit.Action.SECOND_STEP)] == ["ok"]
    wrong = submit(services, enrolled.user_id, enrolled.session_id, wrong_code(services, enrolled.secret))
    assert wrong == Failure(Code.WRONG_CODE, attempts_left=4)


def test_a_success_inside_a_burst_of_wrong_codes_never_lets_more_than_five_be_evaluated(
    services: Services, enrolled: Enrolled, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The owner's valid code is checked while 4 of the thief's wrong codes are in flight, and the
    thief's 50 parallel workers keep sending wrong codes after the success."""
    valid = code_at(services, enrolled.secret)
    guess = wrong_code(services, enrolled.secret)
    thief = thief_session(services, enrolled.user_id)
    real = totp.matching_step
    guard = threading.Lock()
    wrong_evaluated: list[str] = []
    held = threading.Semaphore(0)  # a wrong code is in flight, waiting inside the check
    valid_in_flight = threading.Event()
    success_settled = threading.Event()

    def spy(secret, code, moment, settings):
        if code == valid:
            valid_in_flight.set()
            for _ in range(MAX - 1):  # check it only once 4 wrong codes hold the other slots
                assert held.acquire(timeout=30)
            return real(secret, code, moment, settings)
        with guard:
            wrong_evaluated.append(code)
        held.release()
        success_settled.wait(timeout=30)  # the first wrong codes are still being checked during the success
        return real(secret, code, moment, settings)

    monkeypatch.setattr(totp, "matching_step", spy)  # flows calls it as totp.matching_step

    owner_result: list[Outcome[None]] = []

    def owner() -> None:
        try:
            owner_result.append(submit(services, enrolled.user_id, enrolled.session_id, valid))
        finally:
            success_settled.set()

    owner_thread = threading.Thread(target=owner)
    owner_thread.start()
    assert valid_in_flight.wait(timeout=30)  # the owner's code holds a slot

    def thief_worker() -> list[Outcome[None]]:
        answers = []
        for _ in range(2000):
            answer = submit(services, enrolled.user_id, thief, guess)
            answers.append(answer)
            if not answer.ok and answer.retry_at is not None:
                return answers
            if answer == Failure(Code.BUSY):
                time.sleep(0.002)
        return answers

    burst = run_in_parallel(thief_worker, workers=50)
    owner_thread.join(timeout=60)

    assert owner_result == [Ok()]
    assert len(wrong_evaluated) <= MAX, f"{len(wrong_evaluated)} wrong codes were evaluated"
    answers = [answer for worker in burst for answer in worker]
    assert not any(a.ok for a in answers)
    checked = [a for a in answers if a.code == Code.WRONG_CODE]
    assert len(checked) == len(wrong_evaluated)
    # The burst ends locked (every worker stopped on a locked answer), with one alert.
    until = lock_row(services, enrolled.user_id).locked_until
    assert until is not None
    assert all(worker[-1].retry_at == until for worker in burst)
    assert len(audit_events(services, enrolled.user_id, audit.Action.SECOND_STEP_LOCKED)) == 1
    row = lock_row(services, enrolled.user_id)
    assert (failure_count(row), row.in_flight) == (MAX, 0)


def test_guesses_around_the_end_of_a_window_are_still_five_per_window(
    services: Services, enrolled: Enrolled, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue #8, point 9. One guess at 14:45 opens a fixed window, three at 14:59 leave one attempt, and at
    15:01 that window has ended: 5 more guesses were checked there, 8 in two minutes. In a sliding window
    the guess of 14:45 frees one attempt at 15:00 and no more: 5 guesses in any 15 minutes."""
    clock = services.clock
    window = services.settings.second_factor_failure_window
    evaluated = spy_on_evaluations(services, monkeypatch)

    assert [o.attempts_left for o in guesses(services, enrolled, 1)] == [4]  # 14:45
    clock.advance(timedelta(minutes=14))
    assert [o.attempts_left for o in guesses(services, enrolled, 3)] == [3, 2, 1]  # 14:59
    clock.advance(timedelta(minutes=2))
    until = clock.now() + services.settings.second_factor_lock
    later = guesses(services, enrolled, MAX + 3)  # 15:01

    assert [(o.code, o.attempts_left, o.retry_at) for o in later] == [
        (Code.WRONG_CODE, 1, None), (Code.WRONG_CODE, 0, until), *[(Code.LOCKED, 0, until)] * (MAX + 1)
    ]
    assert len(evaluated) == 6
    assert max(sum(start <= t < start + window for t in evaluated) for start in evaluated) == MAX


def test_a_parallel_burst_after_the_end_of_a_window_gets_only_the_attempts_left(
    services: Services, enrolled: Enrolled, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same attack with 50 requests at once at 15:01: exactly the one freed attempt and the last one are checked."""
    clock = services.clock
    guesses(services, enrolled, 1)
    clock.advance(timedelta(minutes=14))
    guesses(services, enrolled, 3)
    clock.advance(timedelta(minutes=2))
    evaluated = spy_on_evaluations(services, monkeypatch)
    until = clock.now() + services.settings.second_factor_lock
    session_id = pending_session(services, enrolled.user_id)[1]
    guess = wrong_code(services, enrolled.secret)

    burst = run_in_parallel(
        lambda: flows.verify_second_step(services, user_id=enrolled.user_id, session_id=session_id, code=guess), workers=50
    )

    assert len(evaluated) == 2
    checked = sorted((o for o in burst if o.code == Code.WRONG_CODE), key=lambda o: o.attempts_left)
    assert [(o.attempts_left, o.retry_at) for o in checked] == [(0, until), (1, None)]
    assert all(o.code in (Code.BUSY, Code.LOCKED) for o in burst if o.code != Code.WRONG_CODE)
    assert flows.attempts_left(services, enrolled.user_id) == 0
    row = lock_row(services, enrolled.user_id)
    assert (failure_count(row), row.in_flight, row.locked_until) == (MAX, 0, until)


def spy_on_evaluations(services: Services, monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """The clock's time of every TOTP code checked from now on (a spy that calls the real check)."""
    evaluated: list[datetime] = []
    real = totp.matching_step

    def spy(secret, code, moment, settings):
        evaluated.append(services.clock.now())
        return real(secret, code, moment, settings)

    monkeypatch.setattr(totp, "matching_step", spy)  # the TOTP kind calls it as totp.matching_step
    return evaluated


def guesses(services: Services, user: Enrolled, times: int) -> list[Failure]:
    """`times` wrong codes from a new first-factor session (the password again: such a session lasts 10 minutes)."""
    session_id = pending_session(services, user.user_id)[1]
    guess = wrong_code(services, user.secret)
    answers = [
        flows.verify_second_step(services, user_id=user.user_id, session_id=session_id, code=guess) for _ in range(times)
    ]
    assert not any(answer.ok for answer in answers)
    return answers
