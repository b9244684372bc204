"""A fresh second factor on one session: codes under the second-step lock, wallet signature first for wallets.

Real flows on a real database copy, real pyotp and real secp256k1 signatures
(eth_account); time moves only with the FixedClock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from fuzzydice import audit
from fuzzydice.auth import flows, identities, sessions, step_up
from fuzzydice.clock import FixedClock
from fuzzydice.mfa import flows as mfa_flows, lock
from fuzzydice.outcome import Code, Failure, Ok, Outcome
from fuzzydice.services import Services
from tests.mfa.conftest import Enrolled, audit_events, code_at, enrol, raw, wrong_code
from tests.conftest import TEST_TAB, full_session, next_totp_code, pending_session, session_id_of
from tests.wallet_steps import TAB, challenge, sign, wallet_sign_in

NEEDS_WALLET_FIRST = Failure(Code.NEEDS_WALLET_FIRST)


def wallet_user(services: Services) -> tuple[LocalAccount, Enrolled]:
    """A wallet-only account (created by signing in) with TOTP enrolled."""
    account = Account.create()
    signed_in = wallet_sign_in(services, account)
    assert signed_in.ok and signed_in.value.created, signed_in
    return account, enrol(services, signed_in.value.user_id)


def confirm_wallet(services: Services, session_id: int, user_id: int, signer: LocalAccount, issued) -> Outcome[None]:
    return step_up.confirm_wallet(
        services, session_id=session_id, user_id=user_id, nonce=issued.nonce, signature=sign(signer, issued.message),
        binding=TAB,
    )


def confirm(services: Services, session_id: int | None, user_id: int, code: str, method: str = mfa_flows.TOTP) -> Outcome[None]:
    return step_up.confirm_second_factor(services, session_id=session_id, user_id=user_id, code=code, method=method)




# --- password accounts: a code ----------------------------------------------------


def test_a_new_session_is_not_fresh(services: Services, user: Enrolled, sid: int) -> None:
    assert not step_up.is_fresh(services, sid, user.user_id)
    assert not step_up.is_fresh(services, None, user.user_id)
    assert not step_up.is_fresh(services, 0, user.user_id)
    assert not step_up.is_fresh(services, 10_000, user.user_id)  # no such session
    assert not step_up.needs_wallet_signature(services, user.user_id)


def test_a_wrong_code_does_not_make_the_session_fresh_and_counts_toward_the_lock(
    services: Services, user: Enrolled, sid: int
) -> None:
    most = services.settings.second_factor_max_failures
    result = confirm(services, sid, user.user_id, wrong_code(services, user.secret))
    assert result == Failure(Code.WRONG_CODE, attempts_left=most - 1)
    assert not step_up.is_fresh(services, sid, user.user_id)
    # Step-up keeps its own count: a password thief's failures at sign-in never lock a signed-in owner out.
    assert mfa_flows.attempts_left(services, user.user_id, lock.STEP_UP) == most - 1
    assert mfa_flows.attempts_left(services, user.user_id, lock.SIGN_IN) == most
    failed = audit_events(services, user.user_id, audit.Action.STEP_UP)
    assert [(e.result, e.session_id) for e in failed] == [("failed", sid)]


def test_five_failures_lock_and_the_locked_answer_says_until_when(
    services: Services, clock: FixedClock, user: Enrolled, sid: int
) -> None:
    answers = [
        confirm(services, sid, user.user_id, code)
        for code in [wrong_code(services, user.secret)] * 3 + ["", raw(user.backup_codes[0])]  # empty counts; wrong method
    ]
    assert [a.attempts_left for a in answers] == [4, 3, 2, 1, 0]
    last = answers[-1]
    # Locked: a right TOTP code and a right backup code are not even looked at; the answer says when it lifts.
    until = clock.now() + services.settings.second_factor_lock
    right = confirm(services, sid, user.user_id, next_totp_code(services, clock, user.secret))
    backup = confirm(services, sid, user.user_id, user.backup_codes[1], mfa_flows.BACKUP)
    locked = Failure(Code.LOCKED, attempts_left=0, retry_at=until)
    assert right == backup == locked
    assert last == Failure(Code.WRONG_CODE, attempts_left=0, retry_at=until)
    assert not step_up.is_fresh(services, sid, user.user_id)
    # The backup code tried during the lock was not used up.
    assert mfa_flows.remaining_backup_codes(services, user.user_id) == services.settings.backup_code_count
    # The step-up lock is its own: a sign-in (first factor, then a right code) still works.
    _, signing_in = pending_session(services, user.user_id)
    code = next_totp_code(services, clock, user.secret)
    assert mfa_flows.verify_second_step(services, user_id=user.user_id, session_id=signing_in, code=code).ok


def test_a_right_code_makes_this_session_fresh_for_exactly_the_step_up_lifetime(
    services: Services, clock: FixedClock, user: Enrolled, sid: int
) -> None:
    assert services.settings.step_up_lifetime == timedelta(minutes=5)
    result = confirm(services, sid, user.user_id, next_totp_code(services, clock, user.secret))
    assert result == Ok()
    assert step_up.is_fresh(services, sid, user.user_id)
    assert identities.overview(services, session_id=sid, user_id=user.user_id).fresh
    clock.advance(timedelta(minutes=4, seconds=59))
    assert step_up.is_fresh(services, sid, user.user_id)
    clock.advance(timedelta(seconds=1))
    assert not step_up.is_fresh(services, sid, user.user_id)
    assert not identities.overview(services, session_id=sid, user_id=user.user_id).fresh
    # The trail says which session stepped up, and how.
    entry = audit_events(services, user.user_id, audit.Action.STEP_UP)[-1]
    assert (entry.result, entry.session_id, entry.details) == ("ok", sid, '{"method":"totp"}')


def test_the_code_of_the_enrolment_step_is_not_replayed(services: Services, user: Enrolled, sid: int) -> None:
    # `enrol` activated with the code of the previous step: still inside the drift window, but used.
    replay = confirm(services, sid, user.user_id, code_at(services, user.secret, -1))
    assert replay == Failure(Code.CODE_ALREADY_USED)
    assert not step_up.is_fresh(services, sid, user.user_id)


def test_an_accepted_code_is_not_accepted_again(services: Services, clock: FixedClock, user: Enrolled, sid: int) -> None:
    code = next_totp_code(services, clock, user.secret)
    assert confirm(services, sid, user.user_id, code).ok
    other = session_id_of(services, full_session(services, user.user_id))
    assert confirm(services, other, user.user_id, code) == Failure(Code.CODE_ALREADY_USED)
    assert not step_up.is_fresh(services, other, user.user_id)


def test_a_backup_code_works_once(services: Services, user: Enrolled, sid: int) -> None:
    code = user.backup_codes[0]
    assert confirm(services, sid, user.user_id, code, mfa_flows.BACKUP).ok
    assert step_up.is_fresh(services, sid, user.user_id)
    assert mfa_flows.remaining_backup_codes(services, user.user_id) == services.settings.backup_code_count - 1
    other = session_id_of(services, full_session(services, user.user_id))
    again = confirm(services, other, user.user_id, raw(code), mfa_flows.BACKUP)
    assert again == Failure(Code.WRONG_CODE, attempts_left=services.settings.second_factor_max_failures - 1)
    assert not step_up.is_fresh(services, other, user.user_id)


def test_a_method_the_step_does_not_offer_is_refused_without_counting(
    services: Services, user: Enrolled, sid: int
) -> None:
    for method in ("backup", "sms_code", ""):  # the old name of backup codes; a kind this server lacks; none
        assert confirm(services, sid, user.user_id, user.backup_codes[0], method) == Failure(Code.METHOD_NOT_OFFERED)
    assert mfa_flows.attempts_left(services, user.user_id, lock.STEP_UP) == services.settings.second_factor_max_failures
    assert mfa_flows.remaining_backup_codes(services, user.user_id) == services.settings.backup_code_count
    assert not step_up.is_fresh(services, sid, user.user_id)


def test_freshness_belongs_to_the_session_that_gave_the_code(
    services: Services, clock: FixedClock, user: Enrolled, token: str, sid: int
) -> None:
    other = session_id_of(services, full_session(services, user.user_id))
    assert confirm(services, sid, user.user_id, next_totp_code(services, clock, user.secret)).ok
    assert step_up.is_fresh(services, sid, user.user_id)
    assert not step_up.is_fresh(services, other, user.user_id)
    # Signing out ends it with the session.
    assert flows.sign_out(services, token)
    assert not step_up.is_fresh(services, sid, user.user_id)


def test_a_code_of_one_user_does_not_freshen_another_users_session(
    services: Services, clock: FixedClock, make_user: Callable[..., int], user: Enrolled, sid: int
) -> None:
    mallory = enrol(services, make_user())
    # Mallory's right code sent with Ada's session id: refused, and Ada's session stays as it was.
    refused = confirm(services, sid, mallory.user_id, next_totp_code(services, clock, mallory.secret))
    assert refused == Failure(Code.SESSION_ENDED)
    assert not step_up.is_fresh(services, sid, user.user_id)
    assert not step_up.is_fresh(services, sid, mallory.user_id)


# --- wallet accounts: a signature, then a code -------------------------------------


@pytest.fixture
def wallet(services: Services) -> tuple[LocalAccount, Enrolled]:
    return wallet_user(services)


def test_a_wallet_account_needs_a_signature_before_the_code(
    services: Services, clock: FixedClock, wallet: tuple[LocalAccount, Enrolled]
) -> None:
    account, owner = wallet
    sid = session_id_of(services, full_session(services, owner.user_id))
    assert step_up.needs_wallet_signature(services, owner.user_id)
    code = next_totp_code(services, clock, owner.secret)
    assert confirm(services, sid, owner.user_id, code) == NEEDS_WALLET_FIRST
    assert confirm(services, sid, owner.user_id, owner.backup_codes[0], mfa_flows.BACKUP) == NEEDS_WALLET_FIRST
    assert not step_up.is_fresh(services, sid, owner.user_id)

    assert confirm_wallet(services, sid, owner.user_id, account, challenge(services, account, "reauth", owner.user_id)) == Ok()
    # The signature alone never makes the session fresh.
    assert not step_up.is_fresh(services, sid, owner.user_id)
    assert not identities.overview(services, session_id=sid, user_id=owner.user_id).fresh
    # The code refused before was not evaluated (nor used up): it works now.
    assert confirm(services, sid, owner.user_id, code) == Ok()
    assert step_up.is_fresh(services, sid, owner.user_id)
    clock.advance(services.settings.step_up_lifetime)
    assert not step_up.is_fresh(services, sid, owner.user_id)


def test_the_wallet_signature_runs_out_and_belongs_to_its_session(
    services: Services, clock: FixedClock, wallet: tuple[LocalAccount, Enrolled]
) -> None:
    account, owner = wallet
    sid = session_id_of(services, full_session(services, owner.user_id))
    other = session_id_of(services, full_session(services, owner.user_id))
    assert confirm_wallet(services, sid, owner.user_id, account, challenge(services, account, "reauth", owner.user_id)) == Ok()
    refused = confirm(services, other, owner.user_id, next_totp_code(services, clock, owner.secret))
    assert refused == NEEDS_WALLET_FIRST and not step_up.is_fresh(services, other, owner.user_id)
    clock.advance(services.settings.step_up_lifetime)
    late = confirm(services, sid, owner.user_id, next_totp_code(services, clock, owner.secret))
    assert late == NEEDS_WALLET_FIRST and not step_up.is_fresh(services, sid, owner.user_id)


def assert_still_needs_wallet(services: Services, clock: FixedClock, session_id: int, owner: Enrolled) -> None:
    result = confirm(services, session_id, owner.user_id, next_totp_code(services, clock, owner.secret))
    assert result == NEEDS_WALLET_FIRST
    assert not step_up.is_fresh(services, session_id, owner.user_id)


def test_a_reauth_signature_by_another_key_is_refused(
    services: Services, clock: FixedClock, wallet: tuple[LocalAccount, Enrolled]
) -> None:
    account, owner = wallet
    sid, thief = session_id_of(services, full_session(services, owner.user_id)), Account.create()
    # The account's address in the message, signed by another key.
    forged = confirm_wallet(services, sid, owner.user_id, thief, challenge(services, account, "reauth", owner.user_id))
    assert forged.code == Code.SIGNATURE_INVALID
    # Another wallet's own, valid signature on a message for this account.
    other_wallet = confirm_wallet(services, sid, owner.user_id, thief, challenge(services, thief, "reauth", owner.user_id))
    assert other_wallet == Failure(Code.WRONG_WALLET)
    assert_still_needs_wallet(services, clock, sid, owner)


def test_a_challenge_for_another_user_or_purpose_is_refused(
    services: Services, clock: FixedClock, make_user: Callable[..., int], wallet: tuple[LocalAccount, Enrolled]
) -> None:
    account, owner = wallet
    sid = session_id_of(services, full_session(services, owner.user_id))
    someone_else = make_user()
    for purpose, for_user in (("reauth", someone_else), ("reauth", None), ("sign_in", None), ("sign_in", owner.user_id), ("link", owner.user_id)):
        answer = confirm_wallet(services, sid, owner.user_id, account, challenge(services, account, purpose, for_user))
        assert answer == Failure(Code.CHALLENGE_UNKNOWN), (purpose, for_user)
    assert_still_needs_wallet(services, clock, sid, owner)


def test_a_reauth_challenge_works_once_and_only_from_its_tab(
    services: Services, clock: FixedClock, wallet: tuple[LocalAccount, Enrolled]
) -> None:
    account, owner = wallet
    sid = session_id_of(services, full_session(services, owner.user_id))
    issued = challenge(services, account, "reauth", owner.user_id)
    signature = sign(account, issued.message)
    other_tab = step_up.confirm_wallet(
        services, session_id=sid, user_id=owner.user_id, nonce=issued.nonce, signature=signature, binding="other-tab"
    )
    assert other_tab == Failure(Code.CHALLENGE_UNKNOWN)
    replay = step_up.confirm_wallet(
        services, session_id=sid, user_id=owner.user_id, nonce=issued.nonce, signature=signature, binding=TAB
    )
    assert replay == Failure(Code.CHALLENGE_UNKNOWN)  # the failed attempt burnt it
    assert_still_needs_wallet(services, clock, sid, owner)


def test_a_wallet_signature_for_another_users_session_does_not_count(
    services: Services, clock: FixedClock, wallet: tuple[LocalAccount, Enrolled], user: Enrolled, sid: int
) -> None:
    account, owner = wallet
    # A reauth of the wallet's owner, sent with someone else's session id, marks nothing.
    issued = challenge(services, account, "reauth", owner.user_id)
    refused = step_up.confirm_wallet(
        services, session_id=sid, user_id=owner.user_id, nonce=issued.nonce, signature=sign(account, issued.message),
        binding=TAB,
    )
    assert refused == Failure(Code.SESSION_ENDED)
    owner_sid = session_id_of(services, full_session(services, owner.user_id))
    assert_still_needs_wallet(services, clock, owner_sid, owner)
    assert not step_up.is_fresh(services, sid, owner.user_id)


def test_freshness_is_only_for_a_live_full_session_of_that_user(
    services: Services, clock: FixedClock, user: Enrolled, sid: int, make_user: Callable[..., int]
) -> None:
    other_user = make_user()
    assert confirm(services, sid, user.user_id, next_totp_code(services, clock, user.secret)).ok
    assert step_up.is_fresh(services, sid, user.user_id)
    assert not step_up.is_fresh(services, sid, other_user)  # someone else's id with this session
    # A first-factor-only session cannot be made fresh at all.
    ticket = flows.start_session_handoff(services, user_id=user.user_id, factor_level=sessions.FIRST_FACTOR, remember=False, next_path="/", tab=TEST_TAB)
    pending = flows.claim_session(services, ticket=ticket.ticket, bind=ticket.bind, tab=TEST_TAB, ip=None, user_agent=None).token
    pending_sid = session_id_of(services, pending)
    refused = confirm(services, pending_sid, user.user_id, next_totp_code(services, clock, user.secret))
    assert refused == Failure(Code.SESSION_ENDED) and not step_up.is_fresh(services, pending_sid, user.user_id)
