"""Second-factor use cases on the real database: enrolment, activation, sign-in codes, backup codes.

Whatever is pending (an authenticator secret being enrolled, fresh backup codes to show)
belongs to the session that asked for it, never to the user.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
import sqlalchemy as sa

from fuzzydice.auth import flows as auth_flows
from fuzzydice.auth.sessions import FULL
from fuzzydice.clock import FixedClock
from fuzzydice.mfa import backup_codes, flows, registry, totp
from fuzzydice.mfa.kinds.totp import SECRET_PURPOSE
from fuzzydice.mfa.secret_box import open_sealed
from fuzzydice.models import AuthSession, SecondFactor, User
from fuzzydice.outcome import Code, Failure, Ok, Outcome
from fuzzydice.services import Services
from tests.conftest import (
    claimed_session,
    full_session,
    pending_session,
    run_in_parallel,
    session_id_of,
)
from tests.mfa.conftest import (
    Enrolled,
    code_at,
    enrol,
    fresh_session,
    make_fresh,
    raw,
    session_row,
    step_now,
    stored_hashes,
    wrong_code,
)

MINUTE = 60


def device(services: Services, user_id: int) -> SecondFactor | None:
    """The user's authenticator: its row in the factor registry."""
    with services.db() as session:
        return session.execute(
            sa.select(SecondFactor).where(SecondFactor.user_id == user_id, SecondFactor.kind == flows.TOTP)
        ).scalars().first()


def set_sealed_secret(services: Services, user_id: int, sealed: str) -> None:
    """Overwrite the stored (sealed) secret of the user's authenticator, as a database attacker could."""
    table = SecondFactor.__table__
    with services.db() as session:
        session.execute(
            sa.update(table).where(table.c.user_id == user_id, table.c.kind == flows.TOTP).values(sealed_data=sealed)
        )
        session.commit()


def usable_kinds(services: Services, user_id: int) -> frozenset[str]:
    with services.db() as session:
        return registry.usable_kinds(session, user_id)


def user_row(services: Services, user_id: int) -> User:
    with services.db() as session:
        return session.get(User, user_id)


def active_secret(services: Services, user_id: int) -> str:
    sealed = device(services, user_id).sealed_data
    return open_sealed(services.keys.aes_key, sealed, purpose=SECRET_PURPOSE, user_id=user_id).decode()


def pending(services: Services, user_id: int) -> int:
    """A new first-factor session of the user (as after the password); its id."""
    return pending_session(services, user_id)[1]


def full(services: Services, user_id: int) -> int:
    """A new full session of the user; its id."""
    return session_id_of(services, full_session(services, user_id))


def enrolment_outcome(services: Services, user_id: int, session_id: int, **kwargs) -> Outcome[flows.Enrolment]:
    return flows.pending_enrolment(services, user_id=user_id, session_id=session_id, **kwargs)


def enrolment(services: Services, user_id: int, session_id: int, **kwargs) -> flows.Enrolment:
    """The pending secret shown to this session (the flow must succeed)."""
    outcome = enrolment_outcome(services, user_id, session_id, **kwargs)
    assert outcome.ok, outcome
    return outcome.value


def activate(services: Services, user_id: int, session_id: int, code: str) -> Outcome[None]:
    return flows.activate_totp(services, user_id=user_id, session_id=session_id, code=code)


def to_show(services: Services, user_id: int, session_id: int) -> list[str] | None:
    return flows.backup_codes_to_show(services, user_id=user_id, session_id=session_id)


def sign_in(
    services: Services, user: Enrolled, code: str, method: flows.Method = flows.TOTP, session_id: int | None = None
) -> Outcome[None]:
    return flows.verify_second_step(
        services, user_id=user.user_id, session_id=session_id or user.session_id, code=code, method=method
    )


def regenerate(services: Services, user_id: int, session_id: int) -> list[str]:
    """New backup codes for a fresh session (the flow must succeed)."""
    outcome = flows.regenerate_backup_codes(services, user_id=user_id, session_id=session_id)
    assert outcome.ok, outcome
    return outcome.value


# --- enrolment ------------------------------------------------------------------------


def test_pending_secret_stays_the_same_while_the_sign_in_lasts(
    services: Services, clock: FixedClock, make_user: Callable[..., int]
) -> None:
    user_id = make_user("ada@example.com")
    sid = pending(services, user_id)
    first = enrolment(services, user_id, sid)
    assert enrolment(services, user_id, sid) == first
    clock.advance(services.settings.pending_second_step - timedelta(seconds=1))
    assert enrolment(services, user_id, sid) == first
    clock.advance(1)  # the first-factor session has ended, and its secret with it
    assert enrolment_outcome(services, user_id, sid) == Failure(Code.SESSION_ENDED)
    assert enrolment(services, user_id, pending(services, user_id)).secret != first.secret


def test_pending_secret_stays_the_same_for_fifteen_minutes(
    services: Services, clock: FixedClock, enrolled: Enrolled
) -> None:
    # A full session re-enrolling lives longer than the pending secret's 15 minutes; it steps up
    # again (one TOTP step) whenever its freshness ran out.
    _, sid = fresh_session(services, enrolled)
    first = enrolment(services, enrolled.user_id, sid, replacing=True)
    assert first.secret != enrolled.secret
    assert enrolment(services, enrolled.user_id, sid, replacing=True) == first
    clock.advance(14 * MINUTE - 30)
    make_fresh(services, enrolled, sid)
    assert enrolment(services, enrolled.user_id, sid, replacing=True) == first
    clock.advance(30)
    make_fresh(services, enrolled, sid)  # 15 minutes after the secret was made
    renewed = enrolment(services, enrolled.user_id, sid, replacing=True)
    assert renewed.secret != first.secret
    assert enrolment(services, enrolled.user_id, sid, replacing=True) == renewed


def test_enrolment_shows_a_160_bit_secret_and_its_uri(services: Services, make_user: Callable[..., int]) -> None:
    user_id = make_user("ada@example.com")
    shown = enrolment(services, user_id, pending(services, user_id))
    assert len(shown.secret) == 32
    assert shown.grouped_secret.replace(" ", "") == shown.secret
    assert parse_qs(urlparse(shown.uri).query)["secret"] == [shown.secret]
    assert "ada%40example.com" in shown.uri or "ada@example.com" in shown.uri
    other = make_user()
    assert enrolment(services, other, pending(services, other)).secret != shown.secret


def test_pending_secret_is_stored_sealed_on_the_session(services: Services, make_user: Callable[..., int]) -> None:
    user_id = make_user()
    sid = pending(services, user_id)
    shown = enrolment(services, user_id, sid)
    assert device(services, user_id) is None  # nothing on the user until it is activated
    row = session_row(services, sid)
    assert row.pending_totp_secret is not None and row.pending_totp_created_at == services.clock.now()
    assert shown.secret not in row.pending_totp_secret
    opened = open_sealed(services.keys.aes_key, row.pending_totp_secret, purpose=SECRET_PURPOSE, user_id=user_id)
    assert opened.decode() == shown.secret


def test_an_unreadable_pending_secret_is_replaced(services: Services, make_user: Callable[..., int]) -> None:
    user_id, other = make_user(), make_user()
    mine, theirs = pending(services, user_id), pending(services, other)
    enrolment(services, user_id, mine)
    enrolment(services, other, theirs)
    moved = session_row(services, theirs).pending_totp_secret
    with services.db() as session:
        session.execute(sa.update(AuthSession).where(AuthSession.id == mine).values(pending_totp_secret=moved))
        session.commit()
    replaced = enrolment(services, user_id, mine)
    row = session_row(services, mine)
    assert row.pending_totp_secret != moved
    opened = open_sealed(services.keys.aes_key, row.pending_totp_secret, purpose=SECRET_PURPOSE, user_id=user_id)
    assert opened.decode() == replaced.secret


def test_parallel_enrolment_pages_get_one_secret(services: Services, make_user: Callable[..., int]) -> None:
    user_id = make_user()
    sid = pending(services, user_id)
    shown = run_in_parallel(lambda: enrolment(services, user_id, sid).secret, workers=10)
    assert len(set(shown)) == 1
    row = session_row(services, sid)
    opened = open_sealed(services.keys.aes_key, row.pending_totp_secret, purpose=SECRET_PURPOSE, user_id=user_id)
    assert opened.decode() == shown[0]


def test_parallel_pages_replacing_an_expired_secret_agree_on_the_new_one(
    services: Services, clock: FixedClock, enrolled: Enrolled
) -> None:
    _, sid = fresh_session(services, enrolled)
    old = enrolment(services, enrolled.user_id, sid, replacing=True).secret
    clock.advance(15 * MINUTE - 30)
    make_fresh(services, enrolled, sid)  # 15 minutes on: the pending secret has expired
    shown = run_in_parallel(lambda: enrolment(services, enrolled.user_id, sid, replacing=True).secret, workers=10)
    assert len(set(shown)) == 1 and shown[0] != old
    # Each page shows the secret that activation will check.
    assert activate(services, enrolled.user_id, sid, code_at(services, shown[0])).ok
    assert active_secret(services, enrolled.user_id) == shown[0]


def test_the_secret_is_never_shown_again_after_activation(services: Services, enrolled: Enrolled) -> None:
    assert enrolment_outcome(services, enrolled.user_id, enrolled.session_id) == Failure(Code.ALREADY_ENROLLED)
    # Not even to a full (and fresh) session, unless it is replacing it.
    _, fresh = fresh_session(services, enrolled)
    assert enrolment_outcome(services, enrolled.user_id, fresh) == Failure(Code.ALREADY_ENROLLED)
    assert session_row(services, fresh).pending_totp_secret is None
    assert session_row(services, enrolled.session_id).pending_totp_secret is None


def test_enrolment_needs_a_live_session_of_the_user(
    services: Services, clock: FixedClock, make_user: Callable[..., int], enrolled: Enrolled
) -> None:
    user_id = make_user()
    ended = Failure(Code.SESSION_ENDED)
    assert enrolment_outcome(services, user_id, enrolled.session_id) == ended  # another user's session
    assert enrolment_outcome(services, user_id, 10_000) == ended  # no such session
    # Replacing needs a full session.
    assert enrolment_outcome(services, enrolled.user_id, enrolled.session_id, replacing=True) == ended
    assert session_row(services, enrolled.session_id).pending_totp_secret is None
    sid = pending(services, user_id)
    clock.advance(services.settings.pending_second_step)
    assert enrolment_outcome(services, user_id, sid) == ended  # ended


def test_two_sessions_of_one_user_get_different_secrets(services: Services, make_user: Callable[..., int]) -> None:
    # Someone else with the password must never see the secret the owner is scanning.
    user_id = make_user()
    first, second = pending(services, user_id), pending(services, user_id)
    mine, theirs = enrolment(services, user_id, first), enrolment(services, user_id, second)
    assert mine.secret != theirs.secret
    assert enrolment(services, user_id, first) == mine and enrolment(services, user_id, second) == theirs


def test_neither_session_can_activate_the_other_ones_secret(services: Services, make_user: Callable[..., int]) -> None:
    user_id = make_user()
    first, second = pending(services, user_id), pending(services, user_id)
    mine, theirs = enrolment(services, user_id, first), enrolment(services, user_id, second)
    assert code_at(services, mine.secret) != code_at(services, theirs.secret)

    assert activate(services, user_id, first, code_at(services, theirs.secret)) == Failure(Code.WRONG_CODE, attempts_left=4)
    assert activate(services, user_id, second, code_at(services, mine.secret)) == Failure(Code.WRONG_CODE, attempts_left=3)
    assert device(services, user_id) is None
    # Each session's own code still works for it (the first to finish wins).
    assert activate(services, user_id, first, code_at(services, mine.secret)).ok
    assert active_secret(services, user_id) == mine.secret


def test_a_pending_session_cannot_activate_once_another_session_enrolled(
    services: Services, make_user: Callable[..., int]
) -> None:
    user_id = make_user()
    owner, other = pending(services, user_id), pending(services, user_id)
    mine, theirs = enrolment(services, user_id, owner), enrolment(services, user_id, other)
    assert activate(services, user_id, owner, code_at(services, mine.secret)).ok
    hashes, confirmed = stored_hashes(services, user_id), device(services, user_id).created_at

    late = activate(services, user_id, other, code_at(services, theirs.secret))

    assert late == Failure(Code.ALREADY_ENROLLED)
    assert active_secret(services, user_id) == mine.secret  # the owner's authenticator still stands
    assert device(services, user_id).created_at == confirmed
    assert stored_hashes(services, user_id) == hashes  # no new set of backup codes
    assert to_show(services, user_id, other) is None
    assert flows.attempts_left(services, user_id) == 5  # a valid code for its own secret: not counted
    assert enrolment_outcome(services, user_id, other) == Failure(Code.ALREADY_ENROLLED)


# --- activation -------------------------------------------------------------------------


def test_activation_with_a_code_from_the_app(services: Services, clock: FixedClock, make_user: Callable[..., int]) -> None:
    user_id = make_user()
    sid = pending(services, user_id)
    shown = enrolment(services, user_id, sid)
    code = pyotp.TOTP(shown.secret).at(clock.now())  # what an authenticator app shows now
    assert to_show(services, user_id, sid) is None

    assert usable_kinds(services, user_id) == frozenset()
    assert activate(services, user_id, sid, code) == Ok()

    # The authenticator and the set of backup codes are both factors of the registry now.
    assert usable_kinds(services, user_id) == {flows.TOTP, flows.BACKUP}
    session = session_row(services, sid)
    assert session.pending_totp_secret is None and session.pending_totp_created_at is None
    row = device(services, user_id)
    assert row.created_at == clock.now()
    assert row.counter == step_now(services)
    assert active_secret(services, user_id) == shown.secret

    codes = to_show(services, user_id, sid)
    assert codes is not None and len(codes) == 10 and len(set(codes)) == 10
    assert all(len(code) == 19 and code.count("-") == 3 for code in codes)
    assert to_show(services, user_id, sid) == codes  # until acknowledged
    assert stored_hashes(services, user_id) == {backup_codes.code_hash(services.keys.signing_key, raw(c)) for c in codes}
    assert flows.remaining_backup_codes(services, user_id) == 10

    flows.acknowledge_backup_codes(services, user_id=user_id, session_id=sid)
    assert to_show(services, user_id, sid) is None
    assert session_row(services, sid).backup_codes_to_show is None
    assert flows.remaining_backup_codes(services, user_id) == 10  # acknowledging does not spend them


def test_a_wrong_activation_code_fails_and_counts(services: Services, make_user: Callable[..., int]) -> None:
    user_id = make_user()
    sid = pending(services, user_id)
    shown = enrolment(services, user_id, sid)
    result = activate(services, user_id, sid, wrong_code(services, shown.secret))
    assert result == Failure(Code.WRONG_CODE, attempts_left=4)
    assert flows.attempts_left(services, user_id) == 4
    assert usable_kinds(services, user_id) == frozenset()
    assert device(services, user_id) is None
    assert session_row(services, sid).pending_totp_secret is not None
    assert flows.remaining_backup_codes(services, user_id) == 0
    assert to_show(services, user_id, sid) is None
    # Still pending: the right code activates it afterwards, and the count clears.
    assert activate(services, user_id, sid, code_at(services, shown.secret)).ok
    assert flows.attempts_left(services, user_id) == 5


def test_activation_refuses_a_code_two_steps_old(services: Services, make_user: Callable[..., int]) -> None:
    user_id = make_user()
    sid = pending(services, user_id)
    secret = enrolment(services, user_id, sid).secret
    stale = code_at(services, secret, -2)
    if stale in {code_at(services, secret, d) for d in (-1, 0, 1)}:
        pytest.skip("colliding code")
    assert activate(services, user_id, sid, stale) == Failure(Code.WRONG_CODE, attempts_left=4)
    assert device(services, user_id) is None


def test_activation_without_a_pending_secret_fails(services: Services, make_user: Callable[..., int]) -> None:
    user_id = make_user()
    assert activate(services, user_id, pending(services, user_id), "123456") == Failure(Code.WRONG_CODE, attempts_left=4)
    assert device(services, user_id) is None
    assert usable_kinds(services, user_id) == frozenset()


def test_activation_needs_a_live_session_of_the_user(
    services: Services, clock: FixedClock, make_user: Callable[..., int]
) -> None:
    user_id, other = make_user(), make_user()
    sid = pending(services, user_id)
    code = code_at(services, enrolment(services, user_id, sid).secret)
    assert activate(services, other, sid, code) == Failure(Code.SESSION_ENDED)
    clock.advance(services.settings.pending_second_step)
    assert activate(services, user_id, sid, code) == Failure(Code.SESSION_ENDED)
    assert device(services, user_id) is None and device(services, other) is None
    assert flows.attempts_left(services, user_id) == flows.attempts_left(services, other) == 5


def test_a_second_activation_is_refused(services: Services, clock: FixedClock, enrolled: Enrolled) -> None:
    hashes = stored_hashes(services, enrolled.user_id)
    # A sign-in has nothing pending to activate; a full session replaces only once fresh (and with a pending secret).
    again = activate(services, enrolled.user_id, enrolled.session_id, code_at(services, enrolled.secret))
    assert again == Failure(Code.WRONG_CODE, attempts_left=4)
    not_fresh = activate(services, enrolled.user_id, full(services, enrolled.user_id), code_at(services, enrolled.secret, 1))
    assert not_fresh == Failure(Code.NOT_FRESH)
    assert stored_hashes(services, enrolled.user_id) == hashes  # no new set of codes
    assert active_secret(services, enrolled.user_id) == enrolled.secret


def test_parallel_activations_activate_once(services: Services, make_user: Callable[..., int]) -> None:
    user_id = make_user()
    sid = pending(services, user_id)
    secret = enrolment(services, user_id, sid).secret
    code = code_at(services, secret)
    results = run_in_parallel(lambda: activate(services, user_id, sid, code), workers=10)
    assert sum(r.ok for r in results) == 1
    # The copies that lost were not guesses: nothing counts toward the lock.
    assert all(r in (Failure(Code.CODE_ALREADY_USED), Failure(Code.BUSY)) for r in results if not r.ok)
    assert flows.attempts_left(services, user_id) == 5
    assert flows.remaining_backup_codes(services, user_id) == 10
    assert len(to_show(services, user_id, sid)) == 10
    assert active_secret(services, user_id) == secret


def test_resending_the_activation_code_after_it_worked_does_not_count(
    services: Services, make_user: Callable[..., int]
) -> None:
    user_id = make_user()
    sid = pending(services, user_id)
    code = code_at(services, enrolment(services, user_id, sid).secret)
    assert activate(services, user_id, sid, code).ok
    again = activate(services, user_id, sid, code)  # a second tab of the sign-in, or a resent request
    assert again == Failure(Code.CODE_ALREADY_USED)
    assert flows.attempts_left(services, user_id) == 5


def test_the_activation_code_cannot_sign_in(services: Services, make_user: Callable[..., int]) -> None:
    user_id = make_user()
    sid = pending(services, user_id)
    secret = enrolment(services, user_id, sid).secret
    code = code_at(services, secret)
    assert activate(services, user_id, sid, code).ok
    replayed = flows.verify_second_step(services, user_id=user_id, session_id=sid, code=code)
    assert replayed == Failure(Code.CODE_ALREADY_USED)
    assert flows.attempts_left(services, user_id) == 5


def test_re_enrolment_from_a_full_session_replaces_the_secret(services: Services, enrolled: Enrolled) -> None:
    _, sid = fresh_session(services, enrolled)
    hashes = stored_hashes(services, enrolled.user_id)
    new = enrolment(services, enrolled.user_id, sid, replacing=True)
    # The old secret keeps working until the new one is confirmed.
    assert active_secret(services, enrolled.user_id) == enrolled.secret
    assert activate(services, enrolled.user_id, sid, code_at(services, new.secret)) == Ok()
    assert active_secret(services, enrolled.user_id) == new.secret
    assert stored_hashes(services, enrolled.user_id) == hashes  # the backup codes stay
    assert to_show(services, enrolled.user_id, sid) is None
    # The other sessions ended with the change; a new sign-in takes only the new secret's codes.
    assert sign_in(services, enrolled, code_at(services, new.secret, 1)) == Failure(Code.SESSION_ENDED)
    signing_in = pending(services, enrolled.user_id)
    assert sign_in(services, enrolled, code_at(services, enrolled.secret, 1), session_id=signing_in) == Failure(
        Code.WRONG_CODE, attempts_left=4
    )
    assert sign_in(services, enrolled, code_at(services, new.secret, 1), session_id=signing_in) == Ok()


# --- signing in with TOTP -----------------------------------------------------------------


def test_a_current_code_signs_in(services: Services, enrolled: Enrolled, clock: FixedClock) -> None:
    assert sign_in(services, enrolled, pyotp.TOTP(enrolled.secret).at(clock.now())) == Ok()
    assert device(services, enrolled.user_id).counter == step_now(services)
    assert device(services, enrolled.user_id).last_used_at == clock.now()


def test_no_replay_of_a_code_or_an_earlier_step(services: Services, clock: FixedClock, enrolled: Enrolled) -> None:
    clock.advance(30)  # activation was two steps ago, so step S-1 is newer than anything used
    s = step_now(services)
    code_s, code_before = code_at(services, enrolled.secret), code_at(services, enrolled.secret, -1)
    # Both are inside the window: only the replay guard can refuse them.
    assert totp.matching_step(enrolled.secret, code_before, clock.now(), services.settings) == s - 1

    assert sign_in(services, enrolled, code_s).ok
    assert sign_in(services, enrolled, code_s) == Failure(Code.CODE_ALREADY_USED)
    assert sign_in(services, enrolled, code_before) == Failure(Code.CODE_ALREADY_USED)
    assert device(services, enrolled.user_id).counter == s

    clock.advance(30)
    assert sign_in(services, enrolled, code_at(services, enrolled.secret)).ok
    assert device(services, enrolled.user_id).counter == s + 1


def test_a_code_of_the_next_step_is_accepted_once_and_ends_the_current_one(
    services: Services, enrolled: Enrolled
) -> None:
    ahead, current = code_at(services, enrolled.secret, 1), code_at(services, enrolled.secret)
    assert sign_in(services, enrolled, ahead).ok
    assert sign_in(services, enrolled, current) == Failure(Code.CODE_ALREADY_USED)
    assert sign_in(services, enrolled, ahead) == Failure(Code.CODE_ALREADY_USED)


def test_twenty_parallel_submissions_of_one_code_succeed_once(services: Services, enrolled: Enrolled) -> None:
    code = code_at(services, enrolled.secret)
    results = run_in_parallel(lambda: sign_in(services, enrolled, code), workers=20)
    assert len(results) == 20
    assert sum(r.ok for r in results) == 1
    assert all(r in (Failure(Code.CODE_ALREADY_USED), Failure(Code.BUSY)) for r in results if not r.ok)


def test_a_code_of_another_users_secret_is_refused(
    services: Services, make_user: Callable[..., int], enrolled: Enrolled
) -> None:
    other = enrol(services, make_user())
    assert sign_in(services, enrolled, code_at(services, other.secret)) == Failure(Code.WRONG_CODE, attempts_left=4)
    assert sign_in(services, other, code_at(services, other.secret)).ok


def test_a_secret_moved_from_another_user_fails_closed(
    services: Services, make_user: Callable[..., int], enrolled: Enrolled
) -> None:
    other = enrol(services, make_user())
    swapped = device(services, other.user_id).sealed_data
    set_sealed_secret(services, enrolled.user_id, swapped)
    first = sign_in(services, enrolled, code_at(services, other.secret))
    assert first == Failure(Code.WRONG_CODE, attempts_left=4)
    assert sign_in(services, enrolled, code_at(services, enrolled.secret)) == Failure(Code.WRONG_CODE, attempts_left=3)
    # The owner of that ciphertext is unaffected.
    assert sign_in(services, other, code_at(services, other.secret)).ok


def test_a_corrupted_secret_fails_closed(services: Services, enrolled: Enrolled) -> None:
    stored = device(services, enrolled.user_id).sealed_data
    flipped = stored[:-3] + ("A" if stored[-3] != "A" else "B") + stored[-2:]
    for left, broken in zip((4, 3, 2), (flipped, "garbage", "")):
        set_sealed_secret(services, enrolled.user_id, broken)
        assert sign_in(services, enrolled, code_at(services, enrolled.secret)) == Failure(Code.WRONG_CODE, attempts_left=left)


# --- backup codes --------------------------------------------------------------------------


def test_a_backup_code_works_once(services: Services, enrolled: Enrolled) -> None:
    first, second = enrolled.backup_codes[:2]
    assert sign_in(services, enrolled, first, flows.BACKUP) == Ok()
    assert flows.remaining_backup_codes(services, enrolled.user_id) == 9
    assert sign_in(services, enrolled, first, flows.BACKUP) == Failure(Code.WRONG_CODE, attempts_left=4)
    # Typed the way people type it.
    assert sign_in(services, enrolled, f"  {raw(second).lower()[:8]} {raw(second).lower()[8:]} ", flows.BACKUP).ok
    assert flows.remaining_backup_codes(services, enrolled.user_id) == 8


def test_every_issued_backup_code_works(services: Services, enrolled: Enrolled) -> None:
    for left, code in zip(range(9, -1, -1), enrolled.backup_codes):
        assert sign_in(services, enrolled, code, flows.BACKUP).ok
        assert flows.remaining_backup_codes(services, enrolled.user_id) == left
    # With every code used, backup codes are no longer a way through this step.
    assert sign_in(services, enrolled, enrolled.backup_codes[0], flows.BACKUP) == Failure(Code.METHOD_NOT_OFFERED)


def test_a_backup_code_is_not_a_totp_code_and_vice_versa(services: Services, enrolled: Enrolled) -> None:
    assert sign_in(services, enrolled, enrolled.backup_codes[0], flows.TOTP) == Failure(Code.WRONG_CODE, attempts_left=4)
    assert sign_in(services, enrolled, code_at(services, enrolled.secret), flows.BACKUP) == Failure(
        Code.WRONG_CODE, attempts_left=3
    )
    assert flows.remaining_backup_codes(services, enrolled.user_id) == 10


def test_another_users_backup_code_is_refused(
    services: Services, make_user: Callable[..., int], enrolled: Enrolled
) -> None:
    other = enrol(services, make_user())
    assert sign_in(services, enrolled, other.backup_codes[0], flows.BACKUP) == Failure(Code.WRONG_CODE, attempts_left=4)
    assert flows.remaining_backup_codes(services, other.user_id) == 10


def test_twenty_parallel_uses_of_one_backup_code_succeed_once(services: Services, enrolled: Enrolled) -> None:
    code = enrolled.backup_codes[0]
    results = run_in_parallel(lambda: sign_in(services, enrolled, code, flows.BACKUP), workers=20)
    assert len(results) == 20
    assert sum(r.ok for r in results) == 1
    assert flows.remaining_backup_codes(services, enrolled.user_id) == 9


def test_regenerating_kills_every_old_code(services: Services, enrolled: Enrolled) -> None:
    old_hashes = stored_hashes(services, enrolled.user_id)
    assert sign_in(services, enrolled, enrolled.backup_codes[0], flows.BACKUP).ok
    _, sid = fresh_session(services, enrolled)

    new = regenerate(services, enrolled.user_id, sid)

    assert len(new) == 10 and len(set(new)) == 10
    assert set(new).isdisjoint(enrolled.backup_codes)
    assert all(backup_codes.normalize(code) for code in new)
    assert stored_hashes(services, enrolled.user_id).isdisjoint(old_hashes)
    assert stored_hashes(services, enrolled.user_id) == {
        backup_codes.code_hash(services.keys.signing_key, raw(code)) for code in new
    }
    assert flows.remaining_backup_codes(services, enrolled.user_id) == 10
    assert to_show(services, enrolled.user_id, sid) == new
    signing_in = pending(services, enrolled.user_id)
    assert to_show(services, enrolled.user_id, signing_in) is None  # shown to the asking session only
    flows.acknowledge_backup_codes(services, user_id=enrolled.user_id, session_id=sid)
    assert to_show(services, enrolled.user_id, sid) is None
    assert sign_in(services, enrolled, enrolled.backup_codes[1], flows.BACKUP, signing_in) == Failure(
        Code.WRONG_CODE, attempts_left=4
    )
    assert sign_in(services, enrolled, new[0], flows.BACKUP, signing_in).ok
    assert flows.remaining_backup_codes(services, enrolled.user_id) == 9


def test_regenerating_needs_a_live_session_of_the_user(
    services: Services, make_user: Callable[..., int], enrolled: Enrolled
) -> None:
    hashes = stored_hashes(services, enrolled.user_id)
    ended = Failure(Code.SESSION_ENDED)
    theirs = pending(services, make_user())
    assert flows.regenerate_backup_codes(services, user_id=enrolled.user_id, session_id=theirs) == ended
    assert flows.regenerate_backup_codes(services, user_id=enrolled.user_id, session_id=enrolled.session_id) == ended
    assert stored_hashes(services, enrolled.user_id) == hashes
    assert to_show(services, enrolled.user_id, enrolled.session_id) is None


def test_codes_to_show_sealed_for_another_user_are_not_shown(
    services: Services, make_user: Callable[..., int], enrolled: Enrolled
) -> None:
    other = make_user()
    theirs_sid = pending(services, other)
    assert activate(services, other, theirs_sid, code_at(services, enrolment(services, other, theirs_sid).secret)).ok
    theirs = session_row(services, theirs_sid).backup_codes_to_show
    assert theirs is not None
    with services.db() as session:
        session.execute(
            sa.update(AuthSession).where(AuthSession.id == enrolled.session_id).values(backup_codes_to_show=theirs)
        )
        session.commit()
    assert to_show(services, enrolled.user_id, enrolled.session_id) is None
    # Nor can a user read another user's session by its id.
    assert to_show(services, enrolled.user_id, theirs_sid) is None


def test_nothing_to_show_for_a_user_without_codes(services: Services, make_user: Callable[..., int]) -> None:
    user_id = make_user()
    assert to_show(services, user_id, pending(services, user_id)) is None
    assert flows.remaining_backup_codes(services, user_id) == 0
    assert flows.attempts_left(services, user_id) == 5


def test_fresh_backup_codes_are_shown_only_to_the_session_that_enrolled(
    services: Services, make_user: Callable[..., int]
) -> None:
    user_id = make_user()
    enrolling, other = pending(services, user_id), pending(services, user_id)
    secret = enrolment(services, user_id, enrolling).secret
    assert activate(services, user_id, enrolling, code_at(services, secret)).ok
    codes = to_show(services, user_id, enrolling)
    assert codes is not None and len(codes) == 10
    # Another sign-in with the same password, before or after, sees none of them.
    assert to_show(services, user_id, other) is None
    assert to_show(services, user_id, pending(services, user_id)) is None
    assert to_show(services, user_id, full(services, user_id)) is None
    # Acknowledging from another session does not touch them either.
    flows.acknowledge_backup_codes(services, user_id=user_id, session_id=other)
    assert to_show(services, user_id, enrolling) == codes


def test_fresh_backup_codes_move_to_the_full_session_at_claim(
    services: Services, make_user: Callable[..., int]
) -> None:
    user_id = make_user()
    pending_token, enrolling = pending_session(services, user_id)
    secret = enrolment(services, user_id, enrolling).secret
    assert activate(services, user_id, enrolling, code_at(services, secret)).ok
    codes = to_show(services, user_id, enrolling)
    assert codes is not None

    claimed = claimed_session(services, user_id, FULL, replaces_token=pending_token)
    info = auth_flows.current_session(services, claimed, touch=False)
    assert info is not None and info.is_full and info.backup_codes_pending
    assert to_show(services, user_id, info.session_id) == codes
    # The first-factor session has ended, and its copy with it: the codes are kept once, on the new session.
    assert auth_flows.current_session(services, pending_token, touch=False) is None
    with services.db() as session:
        holders = session.execute(
            sa.select(AuthSession.id).where(AuthSession.user_id == user_id, AuthSession.backup_codes_to_show.is_not(None))
        ).scalars().all()
    assert holders == [info.session_id]
    # Another full session of the user does not get them.
    assert to_show(services, user_id, full(services, user_id)) is None
    flows.acknowledge_backup_codes(services, user_id=user_id, session_id=info.session_id)
    assert to_show(services, user_id, info.session_id) is None
    assert auth_flows.current_session(services, claimed, touch=False).backup_codes_pending is False
