"""The sign-in journey: the next step from a session's level, how it proved the first step and the account's factors."""

from __future__ import annotations

import pytest

from fuzzydice import journey
from fuzzydice.auth.sessions import FIRST_FACTOR, FULL
from fuzzydice.journey import Step, StepKind, next_step
from fuzzydice.mfa.kinds import KINDS
from fuzzydice.mfa.kinds.totp import TotpKind


def step(level=FIRST_FACTOR, first="password", usable=(), pending=False, landing=None) -> Step:
    return next_step(
        factor_level=level, first_factor=first, usable=frozenset(usable), backup_codes_pending=pending, landing=landing
    )


def test_no_factor_means_enrol_one_that_may_stand_alone() -> None:
    assert step() == Step(StepKind.ENROL, ("totp",))
    assert step(first="wallet") == Step(StepKind.ENROL, ("totp",))


def test_an_enrolled_account_gives_its_factors_best_first() -> None:
    assert step(usable={"backup_codes", "totp"}) == Step(StepKind.SECOND_FACTOR, ("totp", "backup_codes"))
    assert step(usable={"totp"}).methods == ("totp",)


def test_backup_codes_alone_still_sign_in() -> None:
    # The authenticator is gone (or not usable) but unused backup codes remain: they serve.
    assert step(usable={"backup_codes"}) == Step(StepKind.SECOND_FACTOR, ("backup_codes",))


def test_kinds_the_server_does_not_know_are_never_offered() -> None:
    assert step(usable={"totp", "carrier_pigeon"}).methods == ("totp",)


def test_a_full_session_sees_fresh_backup_codes_first_then_is_done() -> None:
    assert step(level=FULL, usable={"totp"}, pending=True) == Step(StepKind.SHOW_BACKUP_CODES)
    assert step(level=FULL, usable={"totp"}, landing="/user/security") == Step(StepKind.DONE, landing="/user/security")


class EmailCode:
    """A stand-in for the emailed-code kind of the next issue: it proves the email channel."""

    kind = "email_code"
    channel = "email"
    enrols_alone = True


def test_the_two_factors_must_differ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(KINDS, "email_code", EmailCode())
    usable = {"totp", "email_code", "backup_codes"}
    # After a password, an emailed code is a second factor like any other.
    assert step(usable=usable).methods == ("totp", "email_code", "backup_codes")
    # After an emailed reset link, the email channel already proved the first step: never offered again.
    assert step(first="email_link", usable=usable).methods == ("totp", "backup_codes")
    # Nothing but the same channel left: enrol something else (never the same channel either).
    assert step(first="email_link", usable={"email_code"}) == Step(StepKind.ENROL, ("totp",))
    assert journey.enrolment_methods("email_link") == ("totp",)
    assert journey.enrolment_methods("password") == ("totp", "email_code")


def test_the_steps_as_data_for_the_api() -> None:
    assert step(usable={"totp", "backup_codes"}).as_dict() == {"step": "second_factor", "methods": ["totp", "backup_codes"]}
    assert step(level=FULL, landing="/user/home").as_dict() == {"step": "done", "landing": "/user/home"}


def test_every_registered_kind_implements_the_protocol() -> None:
    for name, kind in KINDS.items():
        assert kind.kind == name and kind.channel
        for method in ("begin_enrolment", "confirm_enrolment", "send_challenge", "verify"):
            assert callable(getattr(kind, method)), (name, method)
    assert isinstance(KINDS["totp"], TotpKind)
