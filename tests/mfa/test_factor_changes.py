"""Changes to the second factor itself (re-enrolment, new backup codes), behind a fresh second factor.

Real flows on a real database copy, real pyotp; time moves only with the FixedClock.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from fuzzydice.auth import factor_changes, step_up
from fuzzydice.auth.step_up import NOT_FRESH
from fuzzydice.clock import FixedClock
from fuzzydice.auth import flows
from fuzzydice.mfa import flows as mfa_flows, lock
from fuzzydice.mfa.flows import Enrolment, SecondStepResult
from fuzzydice.services import Services
from tests.mfa.conftest import Enrolled, code_at, enrol, raw, wrong_code
from tests.conftest import full_session, next_totp_code, pending_session, session_id_of






def totp_works(services: Services, clock: FixedClock, user_id: int, secret: str) -> bool:
    """Whether a fresh code of `secret` passes the second step of a new sign-in now."""
    _, signing_in = pending_session(services, user_id)
    code = next_totp_code(services, clock, secret)
    return mfa_flows.verify_second_step(services, user_id=user_id, session_id=signing_in, code=code).ok


def backup_works(services: Services, user_id: int, code: str) -> bool:
    _, signing_in = pending_session(services, user_id)
    return mfa_flows.verify_second_step(services, user_id=user_id, session_id=signing_in, code=code, method="backup").ok


@pytest.fixture
def user(services: Services, make_user: Callable[..., int]) -> Enrolled:
    return enrol(services, make_user())


@pytest.fixture
def token(services: Services, user: Enrolled) -> str:
    return full_session(services, user.user_id)


def make_fresh(services: Services, clock: FixedClock, user: Enrolled, token: str) -> None:
    result = step_up.confirm_second_factor(
        services, token=token, user_id=user.user_id, code=next_totp_code(services, clock, user.secret)
    )
    assert result.ok, result
    assert step_up.is_fresh(services, token, user.user_id)


def test_every_change_of_the_second_factor_needs_a_fresh_session(
    services: Services, clock: FixedClock, user: Enrolled, token: str
) -> None:
    assert factor_changes.begin_reenrolment(services, token=token, user_id=user.user_id) == NOT_FRESH
    # Even a valid code of a (would-be) new secret is not looked at without freshness.
    assert factor_changes.finish_reenrolment(
        services, token=token, user_id=user.user_id, code=code_at(services, user.secret)
    ) == SecondStepResult(False, NOT_FRESH)
    assert factor_changes.new_backup_codes(services, token=token, user_id=user.user_id) == NOT_FRESH
    # Nothing changed: no codes to show, the old secret and the old backup codes work.
    assert mfa_flows.backup_codes_to_show(services, user_id=user.user_id, session_id=session_id_of(services, token)) is None
    assert mfa_flows.remaining_backup_codes(services, user.user_id) == services.settings.backup_code_count
    assert totp_works(services, clock, user.user_id, user.secret)
    assert backup_works(services, user.user_id, user.backup_codes[0])


def test_freshness_runs_out(services: Services, clock: FixedClock, user: Enrolled, token: str) -> None:
    make_fresh(services, clock, user, token)
    clock.advance(services.settings.step_up_lifetime)
    assert factor_changes.begin_reenrolment(services, token=token, user_id=user.user_id) == NOT_FRESH
    assert factor_changes.new_backup_codes(services, token=token, user_id=user.user_id) == NOT_FRESH


def test_freshness_of_another_session_does_not_count(
    services: Services, clock: FixedClock, user: Enrolled, token: str
) -> None:
    make_fresh(services, clock, user, token)
    other = full_session(services, user.user_id)
    assert factor_changes.begin_reenrolment(services, token=other, user_id=user.user_id) == NOT_FRESH
    assert factor_changes.new_backup_codes(services, token=other, user_id=user.user_id) == NOT_FRESH


def test_reenrolment_gives_a_new_secret_and_the_old_one_keeps_working_until_confirmed(
    services: Services, clock: FixedClock, user: Enrolled, token: str
) -> None:
    make_fresh(services, clock, user, token)
    enrolment = factor_changes.begin_reenrolment(services, token=token, user_id=user.user_id)
    assert isinstance(enrolment, Enrolment)
    assert enrolment.secret != user.secret and len(enrolment.secret) >= 32  # base32 of >= 160 bits
    # The page can be reloaded: the same pending secret comes back.
    assert factor_changes.begin_reenrolment(services, token=token, user_id=user.user_id) == enrolment
    # Until it is confirmed, the old secret signs in and the new one does not.
    assert totp_works(services, clock, user.user_id, user.secret)
    assert not totp_works(services, clock, user.user_id, enrolment.secret)


def test_finishing_reenrolment_kills_the_old_secret_and_keeps_the_backup_codes(
    services: Services, clock: FixedClock, user: Enrolled, token: str
) -> None:
    make_fresh(services, clock, user, token)
    enrolment = factor_changes.begin_reenrolment(services, token=token, user_id=user.user_id)
    assert isinstance(enrolment, Enrolment)
    # A code of the OLD secret does not confirm the new one.
    wrong = factor_changes.finish_reenrolment(
        services, token=token, user_id=user.user_id, code=code_at(services, user.secret)
    )
    assert not wrong.ok and wrong.message.startswith("That code is not right.")
    assert totp_works(services, clock, user.user_id, user.secret)

    done = factor_changes.finish_reenrolment(
        services, token=token, user_id=user.user_id, code=code_at(services, enrolment.secret)
    )
    assert done == SecondStepResult(True)
    # The confirming code cannot be replayed as a sign-in code.
    _, signing_in = pending_session(services, user.user_id)
    replay = mfa_flows.verify_second_step(
        services, user_id=user.user_id, session_id=signing_in, code=code_at(services, enrolment.secret)
    )
    assert replay == SecondStepResult(False, mfa_flows.REPLAYED)
    # From now on the old seed is dead (at every later step) and the new one works.
    for _ in range(3):
        assert not totp_works(services, clock, user.user_id, user.secret)
        assert totp_works(services, clock, user.user_id, enrolment.secret)
    # The backup codes stay: still all of them, and one of them works.
    assert mfa_flows.remaining_backup_codes(services, user.user_id) == services.settings.backup_code_count
    assert backup_works(services, user.user_id, raw(user.backup_codes[3]))


def test_a_wrong_confirmation_code_counts_toward_the_second_step_lock(
    services: Services, clock: FixedClock, user: Enrolled, token: str
) -> None:
    make_fresh(services, clock, user, token)
    enrolment = factor_changes.begin_reenrolment(services, token=token, user_id=user.user_id)
    assert isinstance(enrolment, Enrolment)
    before = mfa_flows.attempts_left(services, user.user_id, lock.STEP_UP)
    result = factor_changes.finish_reenrolment(
        services, token=token, user_id=user.user_id, code=wrong_code(services, enrolment.secret)
    )
    assert not result.ok
    assert mfa_flows.attempts_left(services, user.user_id, lock.STEP_UP) == before - 1


def test_new_backup_codes_kill_every_old_code(services: Services, clock: FixedClock, user: Enrolled, token: str) -> None:
    assert backup_works(services, user.user_id, user.backup_codes[0])  # one old code already used
    make_fresh(services, clock, user, token)

    assert factor_changes.new_backup_codes(services, token=token, user_id=user.user_id) == ""
    here = session_id_of(services, token)
    new_codes = mfa_flows.backup_codes_to_show(services, user_id=user.user_id, session_id=here)
    assert new_codes is not None and len(new_codes) == services.settings.backup_code_count
    # Shown to this session only: a new sign-in of the same user does not get them.
    _, elsewhere = pending_session(services, user.user_id)
    assert mfa_flows.backup_codes_to_show(services, user_id=user.user_id, session_id=elsewhere) is None
    assert not set(new_codes) & set(user.backup_codes)
    assert mfa_flows.remaining_backup_codes(services, user.user_id) == services.settings.backup_code_count
    # Unused old codes are dead (three of them: more failures would lock the second step).
    for old in (user.backup_codes[1], user.backup_codes[5], raw(user.backup_codes[-1])):
        assert not backup_works(services, user.user_id, old)
    # Each new code works, once.
    assert backup_works(services, user.user_id, new_codes[0])
    assert not backup_works(services, user.user_id, new_codes[0])
    assert backup_works(services, user.user_id, raw(new_codes[1]))
    # The authenticator itself is untouched.
    assert totp_works(services, clock, user.user_id, user.secret)


def test_a_change_of_factors_ends_the_other_sessions(services: Services, clock: FixedClock, user: Enrolled) -> None:
    here, elsewhere = full_session(services, user.user_id), full_session(services, user.user_id)
    make_fresh(services, clock, user, here)
    assert factor_changes.new_backup_codes(services, token=here, user_id=user.user_id) == ""
    assert flows.current_session(services, elsewhere) is None  # signed out everywhere else
    assert flows.current_session(services, here) is not None  # but not here
