"""Second-factor use cases on the real database: enrolment, activation, sign-in codes, backup codes."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
import sqlalchemy as sa

from fuzzydice.clock import FixedClock
from fuzzydice.mfa import backup_codes, flows, totp
from fuzzydice.mfa.flows import SecondStepResult
from fuzzydice.mfa.secret_box import open_sealed
from fuzzydice.models import BackupCode, TotpDevice, User
from fuzzydice.services import Services
from tests.conftest import run_in_parallel
from tests.mfa.conftest import Enrolled, code_at, enrol, raw, step_now, wrong_code

MINUTE = 60


def device(services: Services, user_id: int) -> TotpDevice | None:
    with services.db() as session:
        return session.exec(sa.select(TotpDevice).where(TotpDevice.user_id == user_id)).scalars().first()


def user_row(services: Services, user_id: int) -> User:
    with services.db() as session:
        return session.get(User, user_id)


def stored_hashes(services: Services, user_id: int) -> set[str]:
    with services.db() as session:
        return set(session.execute(sa.select(BackupCode.code_hash).where(BackupCode.user_id == user_id)).scalars())


def sign_in(services: Services, user: Enrolled, code: str, method: flows.Method = "totp") -> SecondStepResult:
    return flows.verify_second_step(services, user.user_id, code, method)


# --- enrolment ------------------------------------------------------------------------


def test_pending_secret_stays_the_same_for_fifteen_minutes(
    services: Services, clock: FixedClock, make_user: Callable[..., int]
) -> None:
    user_id = make_user("ada@example.com")
    first = flows.pending_enrolment(services, user_id)
    assert flows.pending_enrolment(services, user_id) == first
    clock.advance(14 * MINUTE)
    assert flows.pending_enrolment(services, user_id) == first
    clock.advance(1 * MINUTE)
    renewed = flows.pending_enrolment(services, user_id)
    assert renewed.secret != first.secret
    assert flows.pending_enrolment(services, user_id) == renewed


def test_enrolment_shows_a_160_bit_secret_and_its_uri(services: Services, make_user: Callable[..., int]) -> None:
    user_id = make_user("ada@example.com")
    enrolment = flows.pending_enrolment(services, user_id)
    assert len(enrolment.secret) == 32
    assert enrolment.grouped_secret.replace(" ", "") == enrolment.secret
    assert parse_qs(urlparse(enrolment.uri).query)["secret"] == [enrolment.secret]
    assert "ada%40example.com" in enrolment.uri or "ada@example.com" in enrolment.uri
    assert flows.pending_enrolment(services, make_user()).secret != enrolment.secret


def test_pending_secret_is_stored_sealed_for_its_user(services: Services, make_user: Callable[..., int]) -> None:
    user_id = make_user()
    enrolment = flows.pending_enrolment(services, user_id)
    row = device(services, user_id)
    assert row.secret is None and row.pending_secret is not None
    assert enrolment.secret not in row.pending_secret
    opened = open_sealed(services.keys.aes_key, row.pending_secret, purpose=flows.TOTP_PURPOSE, user_id=user_id)
    assert opened.decode() == enrolment.secret


def test_an_unreadable_pending_secret_is_replaced(services: Services, make_user: Callable[..., int]) -> None:
    user_id, other = make_user(), make_user()
    flows.pending_enrolment(services, user_id)
    flows.pending_enrolment(services, other)
    moved = device(services, other).pending_secret
    with services.db() as session:
        session.execute(sa.update(TotpDevice).where(TotpDevice.user_id == user_id).values(pending_secret=moved))
        session.commit()
    replaced = flows.pending_enrolment(services, user_id)
    row = device(services, user_id)
    assert row.pending_secret != moved
    opened = open_sealed(services.keys.aes_key, row.pending_secret, purpose=flows.TOTP_PURPOSE, user_id=user_id)
    assert opened.decode() == replaced.secret


def test_parallel_enrolment_pages_get_one_secret(services: Services, make_user: Callable[..., int]) -> None:
    user_id = make_user()
    shown = run_in_parallel(lambda: flows.pending_enrolment(services, user_id).secret, workers=10)
    assert len(set(shown)) == 1
    row = device(services, user_id)
    opened = open_sealed(services.keys.aes_key, row.pending_secret, purpose=flows.TOTP_PURPOSE, user_id=user_id)
    assert opened.decode() == shown[0]


def test_parallel_pages_replacing_an_expired_secret_agree_on_the_new_one(
    services: Services, clock: FixedClock, make_user: Callable[..., int]
) -> None:
    user_id = make_user()
    old = flows.pending_enrolment(services, user_id).secret
    clock.advance(15 * MINUTE)
    shown = run_in_parallel(lambda: flows.pending_enrolment(services, user_id).secret, workers=10)
    assert len(set(shown)) == 1 and shown[0] != old
    # Each page shows the secret that activation will check.
    assert flows.activate_totp(services, user_id, code_at(services, shown[0])).ok


def test_the_secret_is_never_shown_again_after_activation(services: Services, enrolled: Enrolled) -> None:
    with pytest.raises(flows.AlreadyEnrolled):
        flows.pending_enrolment(services, enrolled.user_id)


# --- activation -------------------------------------------------------------------------


def test_activation_with_a_code_from_the_app(services: Services, clock: FixedClock, make_user: Callable[..., int]) -> None:
    user_id = make_user()
    enrolment = flows.pending_enrolment(services, user_id)
    code = pyotp.TOTP(enrolment.secret).at(clock.now())  # what an authenticator app shows now
    assert flows.backup_codes_to_show(services, user_id) is None

    assert flows.activate_totp(services, user_id, code) == SecondStepResult(True)

    assert user_row(services, user_id).second_factor_at == clock.now()
    row = device(services, user_id)
    assert row.pending_secret is None and row.pending_created_at is None
    assert row.confirmed_at == clock.now()
    assert row.last_step == step_now(services)
    assert open_sealed(services.keys.aes_key, row.secret, purpose=flows.TOTP_PURPOSE, user_id=user_id).decode() == enrolment.secret

    shown = flows.backup_codes_to_show(services, user_id)
    assert shown is not None and len(shown) == 10 and len(set(shown)) == 10
    assert all(len(code) == 19 and code.count("-") == 3 for code in shown)
    assert flows.backup_codes_to_show(services, user_id) == shown  # until acknowledged
    assert stored_hashes(services, user_id) == {backup_codes.code_hash(services.keys.signing_key, raw(c)) for c in shown}
    assert flows.remaining_backup_codes(services, user_id) == 10

    flows.acknowledge_backup_codes(services, user_id)
    assert flows.backup_codes_to_show(services, user_id) is None
    assert user_row(services, user_id).backup_codes_to_show is None
    assert flows.remaining_backup_codes(services, user_id) == 10  # acknowledging does not spend them


def test_a_wrong_activation_code_fails_and_counts(services: Services, make_user: Callable[..., int]) -> None:
    user_id = make_user()
    enrolment = flows.pending_enrolment(services, user_id)
    result = flows.activate_totp(services, user_id, wrong_code(services, enrolment.secret))
    assert result == SecondStepResult(False, "That code is not right. 4 attempts left.", 4)
    assert flows.attempts_left(services, user_id) == 4
    assert user_row(services, user_id).second_factor_at is None
    row = device(services, user_id)
    assert row.secret is None and row.pending_secret is not None
    assert flows.remaining_backup_codes(services, user_id) == 0
    assert flows.backup_codes_to_show(services, user_id) is None
    # Still pending: the right code activates it afterwards, and the count clears.
    assert flows.activate_totp(services, user_id, code_at(services, enrolment.secret)).ok
    assert flows.attempts_left(services, user_id) == 5


def test_activation_refuses_a_code_two_steps_old(services: Services, make_user: Callable[..., int]) -> None:
    user_id = make_user()
    secret = flows.pending_enrolment(services, user_id).secret
    stale = code_at(services, secret, -2)
    if stale in {code_at(services, secret, d) for d in (-1, 0, 1)}:
        pytest.skip("colliding code")
    assert not flows.activate_totp(services, user_id, stale).ok


def test_activation_without_a_pending_secret_fails(services: Services, make_user: Callable[..., int]) -> None:
    user_id = make_user()
    assert flows.activate_totp(services, user_id, "123456").attempts_left == 4
    assert device(services, user_id) is None
    assert user_row(services, user_id).second_factor_at is None


def test_a_second_activation_is_refused(services: Services, clock: FixedClock, enrolled: Enrolled) -> None:
    hashes = stored_hashes(services, enrolled.user_id)
    assert not flows.activate_totp(services, enrolled.user_id, code_at(services, enrolled.secret)).ok
    assert stored_hashes(services, enrolled.user_id) == hashes  # no new set of codes


def test_parallel_activations_activate_once(services: Services, make_user: Callable[..., int]) -> None:
    user_id = make_user()
    secret = flows.pending_enrolment(services, user_id).secret
    code = code_at(services, secret)
    results = run_in_parallel(lambda: flows.activate_totp(services, user_id, code), workers=10)
    assert sum(r.ok for r in results) == 1
    assert flows.remaining_backup_codes(services, user_id) == 10
    assert len(flows.backup_codes_to_show(services, user_id)) == 10


def test_the_activation_code_cannot_sign_in(services: Services, make_user: Callable[..., int]) -> None:
    user_id = make_user()
    secret = flows.pending_enrolment(services, user_id).secret
    code = code_at(services, secret)
    assert flows.activate_totp(services, user_id, code).ok
    assert not flows.verify_second_step(services, user_id, code).ok


# --- signing in with TOTP -----------------------------------------------------------------


def test_a_current_code_signs_in(services: Services, enrolled: Enrolled, clock: FixedClock) -> None:
    assert sign_in(services, enrolled, pyotp.TOTP(enrolled.secret).at(clock.now())) == SecondStepResult(True)
    assert device(services, enrolled.user_id).last_step == step_now(services)


def test_no_replay_of_a_code_or_an_earlier_step(services: Services, clock: FixedClock, enrolled: Enrolled) -> None:
    clock.advance(30)  # activation was two steps ago, so step S-1 is newer than anything used
    s = step_now(services)
    code_s, code_before = code_at(services, enrolled.secret), code_at(services, enrolled.secret, -1)
    # Both are inside the window: only the replay guard can refuse them.
    assert totp.matching_step(enrolled.secret, code_before, clock.now(), services.settings) == s - 1

    assert sign_in(services, enrolled, code_s).ok
    assert not sign_in(services, enrolled, code_s).ok
    assert not sign_in(services, enrolled, code_before).ok
    assert device(services, enrolled.user_id).last_step == s

    clock.advance(30)
    assert sign_in(services, enrolled, code_at(services, enrolled.secret)).ok
    assert device(services, enrolled.user_id).last_step == s + 1


def test_a_code_of_the_next_step_is_accepted_once_and_ends_the_current_one(
    services: Services, enrolled: Enrolled
) -> None:
    ahead, current = code_at(services, enrolled.secret, 1), code_at(services, enrolled.secret)
    assert sign_in(services, enrolled, ahead).ok
    assert not sign_in(services, enrolled, current).ok
    assert not sign_in(services, enrolled, ahead).ok


def test_twenty_parallel_submissions_of_one_code_succeed_once(services: Services, enrolled: Enrolled) -> None:
    code = code_at(services, enrolled.secret)
    results = run_in_parallel(lambda: sign_in(services, enrolled, code), workers=20)
    assert len(results) == 20
    assert sum(r.ok for r in results) == 1


def test_a_code_of_another_users_secret_is_refused(
    services: Services, make_user: Callable[..., int], enrolled: Enrolled
) -> None:
    other = enrol(services, make_user())
    assert not sign_in(services, enrolled, code_at(services, other.secret)).ok
    assert sign_in(services, other, code_at(services, other.secret)).ok


def test_a_secret_moved_from_another_user_fails_closed(
    services: Services, make_user: Callable[..., int], enrolled: Enrolled
) -> None:
    other = enrol(services, make_user())
    swapped = device(services, other.user_id).secret
    with services.db() as session:
        session.execute(sa.update(TotpDevice).where(TotpDevice.user_id == enrolled.user_id).values(secret=swapped))
        session.commit()
    first = sign_in(services, enrolled, code_at(services, other.secret))
    assert first == SecondStepResult(False, "That code is not right. 4 attempts left.", 4)
    assert not sign_in(services, enrolled, code_at(services, enrolled.secret)).ok
    # The owner of that ciphertext is unaffected.
    assert sign_in(services, other, code_at(services, other.secret)).ok


def test_a_corrupted_secret_fails_closed(services: Services, enrolled: Enrolled) -> None:
    stored = device(services, enrolled.user_id).secret
    flipped = stored[:-3] + ("A" if stored[-3] != "A" else "B") + stored[-2:]
    for broken in (flipped, "garbage", ""):
        with services.db() as session:
            session.execute(sa.update(TotpDevice).where(TotpDevice.user_id == enrolled.user_id).values(secret=broken))
            session.commit()
        assert not sign_in(services, enrolled, code_at(services, enrolled.secret)).ok


# --- backup codes --------------------------------------------------------------------------


def test_a_backup_code_works_once(services: Services, enrolled: Enrolled) -> None:
    first, second = enrolled.backup_codes[:2]
    assert sign_in(services, enrolled, first, "backup") == SecondStepResult(True)
    assert flows.remaining_backup_codes(services, enrolled.user_id) == 9
    assert not sign_in(services, enrolled, first, "backup").ok
    # Typed the way people type it.
    assert sign_in(services, enrolled, f"  {raw(second).lower()[:8]} {raw(second).lower()[8:]} ", "backup").ok
    assert flows.remaining_backup_codes(services, enrolled.user_id) == 8


def test_every_issued_backup_code_works(services: Services, enrolled: Enrolled) -> None:
    for left, code in zip(range(9, -1, -1), enrolled.backup_codes):
        assert sign_in(services, enrolled, code, "backup").ok
        assert flows.remaining_backup_codes(services, enrolled.user_id) == left


def test_a_backup_code_is_not_a_totp_code_and_vice_versa(services: Services, enrolled: Enrolled) -> None:
    assert not sign_in(services, enrolled, enrolled.backup_codes[0], "totp").ok
    assert not sign_in(services, enrolled, code_at(services, enrolled.secret), "backup").ok
    assert flows.remaining_backup_codes(services, enrolled.user_id) == 10


def test_another_users_backup_code_is_refused(
    services: Services, make_user: Callable[..., int], enrolled: Enrolled
) -> None:
    other = enrol(services, make_user())
    assert not sign_in(services, enrolled, other.backup_codes[0], "backup").ok
    assert flows.remaining_backup_codes(services, other.user_id) == 10


def test_twenty_parallel_uses_of_one_backup_code_succeed_once(services: Services, enrolled: Enrolled) -> None:
    code = enrolled.backup_codes[0]
    results = run_in_parallel(lambda: sign_in(services, enrolled, code, "backup"), workers=20)
    assert len(results) == 20
    assert sum(r.ok for r in results) == 1
    assert flows.remaining_backup_codes(services, enrolled.user_id) == 9


def test_regenerating_kills_every_old_code(services: Services, enrolled: Enrolled) -> None:
    old_hashes = stored_hashes(services, enrolled.user_id)
    assert sign_in(services, enrolled, enrolled.backup_codes[0], "backup").ok
    flows.acknowledge_backup_codes(services, enrolled.user_id)

    new = flows.regenerate_backup_codes(services, enrolled.user_id)

    assert len(new) == 10 and len(set(new)) == 10
    assert set(new).isdisjoint(enrolled.backup_codes)
    assert all(backup_codes.normalize(code) for code in new)
    assert stored_hashes(services, enrolled.user_id).isdisjoint(old_hashes)
    assert stored_hashes(services, enrolled.user_id) == {
        backup_codes.code_hash(services.keys.signing_key, raw(code)) for code in new
    }
    assert flows.remaining_backup_codes(services, enrolled.user_id) == 10
    assert flows.backup_codes_to_show(services, enrolled.user_id) == new
    assert not sign_in(services, enrolled, enrolled.backup_codes[1], "backup").ok
    assert sign_in(services, enrolled, new[0], "backup").ok
    assert flows.remaining_backup_codes(services, enrolled.user_id) == 9


def test_codes_to_show_sealed_for_another_user_are_not_shown(
    services: Services, make_user: Callable[..., int], enrolled: Enrolled
) -> None:
    other = enrol(services, make_user())
    theirs = user_row(services, other.user_id).backup_codes_to_show
    with services.db() as session:
        session.execute(sa.update(User).where(User.id == enrolled.user_id).values(backup_codes_to_show=theirs))
        session.commit()
    assert flows.backup_codes_to_show(services, enrolled.user_id) is None


def test_nothing_to_show_for_a_user_without_codes(services: Services, make_user: Callable[..., int]) -> None:
    user_id = make_user()
    assert flows.backup_codes_to_show(services, user_id) is None
    assert flows.remaining_backup_codes(services, user_id) == 0
    assert flows.attempts_left(services, user_id) == 5
