"""A fresh second factor on one session: codes under the second-step lock, wallet signature first for wallets.

Real flows on a real database copy, real pyotp and real secp256k1 signatures
(eth_account); time moves only with the FixedClock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount

from fuzzydice.auth import flows, identities, sessions, step_up
from fuzzydice.auth.step_up import NEEDS_WALLET_FIRST
from fuzzydice.clock import FixedClock
from fuzzydice.mfa import flows as mfa_flows, lock
from fuzzydice.mfa.flows import SecondStepResult
from fuzzydice.services import Services
from fuzzydice.wallet import flows as wallet_flows
from tests.mfa.conftest import Enrolled, code_at, enrol, raw, wrong_code
from tests.conftest import TEST_TAB, full_session, next_totp_code, pending_session

ORIGIN = "http://127.0.0.1:3000"
TAB = "tab-token-1"
CHAIN = 31337  # the demo chain of the test settings






def sign(account: LocalAccount, text: str) -> str:
    """EIP-191 personal_sign, as a browser wallet does it."""
    return account.sign_message(encode_defunct(text=text)).signature.to_0x_hex()


def challenge(services: Services, account: LocalAccount, purpose: str, user_id: int | None) -> wallet_flows.Challenge:
    issued = wallet_flows.begin_sign_in(
        services, address=account.address, chain_id=CHAIN, origin=ORIGIN, binding=TAB, purpose=purpose, user_id=user_id
    )
    assert issued.nonce, issued.error
    return issued


def wallet_user(services: Services) -> tuple[LocalAccount, Enrolled]:
    """A wallet-only account (created by signing in) with TOTP enrolled."""
    account = Account.create()
    issued = challenge(services, account, "sign_in", None)
    signed_in = wallet_flows.complete_sign_in(services, nonce=issued.nonce, signature=sign(account, issued.message), binding=TAB)
    assert signed_in.created and signed_in.user_id
    return account, enrol(services, signed_in.user_id)


def confirm_wallet(services: Services, token: str, user_id: int, signer: LocalAccount, issued) -> str:
    return step_up.confirm_wallet(
        services, token=token, user_id=user_id, nonce=issued.nonce, signature=sign(signer, issued.message), binding=TAB
    )


@pytest.fixture
def user(services: Services, make_user: Callable[..., int]) -> Enrolled:
    return enrol(services, make_user())


@pytest.fixture
def token(services: Services, user: Enrolled) -> str:
    return full_session(services, user.user_id)


# --- password accounts: a code ----------------------------------------------------


def test_a_new_session_is_not_fresh(services: Services, user: Enrolled, token: str) -> None:
    assert not step_up.is_fresh(services, token, user.user_id)
    assert not step_up.is_fresh(services, None, user.user_id)
    assert not step_up.is_fresh(services, "", user.user_id)
    assert not step_up.is_fresh(services, "not-a-session-token", user.user_id)
    assert not step_up.needs_wallet_signature(services, user.user_id)


def test_a_wrong_code_does_not_make_the_session_fresh_and_counts_toward_the_lock(
    services: Services, user: Enrolled, token: str
) -> None:
    result = step_up.confirm_second_factor(services, token=token, user_id=user.user_id, code=wrong_code(services, user.secret))
    assert not result.ok and result.attempts_left == services.settings.second_factor_max_failures - 1
    assert result.message == "That code is not right. 4 attempts left."
    assert not step_up.is_fresh(services, token, user.user_id)
    # Step-up keeps its own count: a password thief's failures at sign-in never lock a signed-in owner out.
    assert mfa_flows.attempts_left(services, user.user_id, lock.STEP_UP) == services.settings.second_factor_max_failures - 1
    assert mfa_flows.attempts_left(services, user.user_id, lock.SIGN_IN) == services.settings.second_factor_max_failures


def test_five_failures_lock_and_the_locked_answer_says_until_when(
    services: Services, clock: FixedClock, user: Enrolled, token: str
) -> None:
    answers = [
        step_up.confirm_second_factor(services, token=token, user_id=user.user_id, code=code)
        for code in [wrong_code(services, user.secret)] * 3 + ["", raw(user.backup_codes[0])]  # empty counts; wrong method
    ]
    assert [a.attempts_left for a in answers] == [4, 3, 2, 1, 0]
    last = answers[-1]
    # Locked: a right TOTP code and a right backup code are not even looked at; the answer says when it lifts.
    until = clock.now() + services.settings.second_factor_lock
    right = step_up.confirm_second_factor(services, token=token, user_id=user.user_id, code=next_totp_code(services, clock, user.secret))
    backup = step_up.confirm_second_factor(
        services, token=token, user_id=user.user_id, code=user.backup_codes[1], method="backup"
    )
    locked = SecondStepResult(False, f"Too many wrong codes. Try again after {until:%H:%M} UTC.", 0, locked_until=until)
    assert right == backup == locked
    assert last == SecondStepResult(False, "That code is not right. " + locked.message, 0, locked_until=until)
    assert not step_up.is_fresh(services, token, user.user_id)
    # The backup code tried during the lock was not used up.
    assert mfa_flows.remaining_backup_codes(services, user.user_id) == services.settings.backup_code_count
    # The step-up lock is its own: a sign-in (first factor, then a right code) still works.
    _, signing_in = pending_session(services, user.user_id)
    code = next_totp_code(services, clock, user.secret)
    assert mfa_flows.verify_second_step(services, user_id=user.user_id, session_id=signing_in, code=code).ok


def test_a_right_code_makes_this_session_fresh_for_exactly_the_step_up_lifetime(
    services: Services, clock: FixedClock, user: Enrolled, token: str
) -> None:
    assert services.settings.step_up_lifetime == timedelta(minutes=5)
    result = step_up.confirm_second_factor(services, token=token, user_id=user.user_id, code=next_totp_code(services, clock, user.secret))
    assert result == SecondStepResult(True)
    assert step_up.is_fresh(services, token, user.user_id)
    assert identities.overview(services, token=token, user_id=user.user_id)["fresh"]
    clock.advance(timedelta(minutes=4, seconds=59))
    assert step_up.is_fresh(services, token, user.user_id)
    clock.advance(timedelta(seconds=1))
    assert not step_up.is_fresh(services, token, user.user_id)
    assert not identities.overview(services, token=token, user_id=user.user_id)["fresh"]


def test_the_code_of_the_enrolment_step_is_not_replayed(services: Services, user: Enrolled, token: str) -> None:
    # `enrol` activated with the code of the previous step: still inside the drift window, but used.
    replay = step_up.confirm_second_factor(services, token=token, user_id=user.user_id, code=code_at(services, user.secret, -1))
    assert not replay.ok and not step_up.is_fresh(services, token, user.user_id)


def test_an_accepted_code_is_not_accepted_again(services: Services, clock: FixedClock, user: Enrolled, token: str) -> None:
    code = next_totp_code(services, clock, user.secret)
    assert step_up.confirm_second_factor(services, token=token, user_id=user.user_id, code=code).ok
    other = full_session(services, user.user_id)
    assert not step_up.confirm_second_factor(services, token=other, user_id=user.user_id, code=code).ok
    assert not step_up.is_fresh(services, other, user.user_id)


def test_a_backup_code_works_once(services: Services, user: Enrolled, token: str) -> None:
    code = user.backup_codes[0]
    assert step_up.confirm_second_factor(services, token=token, user_id=user.user_id, code=code, method="backup").ok
    assert step_up.is_fresh(services, token, user.user_id)
    assert mfa_flows.remaining_backup_codes(services, user.user_id) == services.settings.backup_code_count - 1
    other = full_session(services, user.user_id)
    again = step_up.confirm_second_factor(services, token=other, user_id=user.user_id, code=raw(code), method="backup")
    assert not again.ok and not step_up.is_fresh(services, other, user.user_id)


def test_freshness_belongs_to_the_session_that_gave_the_code(
    services: Services, clock: FixedClock, user: Enrolled, token: str
) -> None:
    other = full_session(services, user.user_id)
    assert step_up.confirm_second_factor(services, token=token, user_id=user.user_id, code=next_totp_code(services, clock, user.secret)).ok
    assert step_up.is_fresh(services, token, user.user_id)
    assert not step_up.is_fresh(services, other, user.user_id)
    # Signing out ends it with the session.
    assert flows.sign_out(services, token)
    assert not step_up.is_fresh(services, token, user.user_id)


def test_a_code_of_one_user_does_not_freshen_another_users_session(
    services: Services, clock: FixedClock, make_user: Callable[..., int], user: Enrolled, token: str
) -> None:
    mallory = enrol(services, make_user())
    # Mallory's right code sent with Ada's session token: Ada's session stays as it was.
    step_up.confirm_second_factor(services, token=token, user_id=mallory.user_id, code=next_totp_code(services, clock, mallory.secret))
    assert not step_up.is_fresh(services, token, user.user_id)


# --- wallet accounts: a signature, then a code -------------------------------------


@pytest.fixture
def wallet(services: Services) -> tuple[LocalAccount, Enrolled]:
    return wallet_user(services)


def test_a_wallet_account_needs_a_signature_before_the_code(
    services: Services, clock: FixedClock, wallet: tuple[LocalAccount, Enrolled]
) -> None:
    account, owner = wallet
    token = full_session(services, owner.user_id)
    assert step_up.needs_wallet_signature(services, owner.user_id)
    code = next_totp_code(services, clock, owner.secret)
    assert step_up.confirm_second_factor(services, token=token, user_id=owner.user_id, code=code) == SecondStepResult(
        False, NEEDS_WALLET_FIRST
    )
    assert step_up.confirm_second_factor(
        services, token=token, user_id=owner.user_id, code=owner.backup_codes[0], method="backup"
    ) == SecondStepResult(False, NEEDS_WALLET_FIRST)
    assert not step_up.is_fresh(services, token, owner.user_id)

    assert confirm_wallet(services, token, owner.user_id, account, challenge(services, account, "reauth", owner.user_id)) == ""
    # The signature alone never makes the session fresh.
    assert not step_up.is_fresh(services, token, owner.user_id)
    assert not identities.overview(services, token=token, user_id=owner.user_id)["fresh"]
    # The code refused before was not evaluated (nor used up): it works now.
    assert step_up.confirm_second_factor(services, token=token, user_id=owner.user_id, code=code) == SecondStepResult(True)
    assert step_up.is_fresh(services, token, owner.user_id)
    clock.advance(services.settings.step_up_lifetime)
    assert not step_up.is_fresh(services, token, owner.user_id)


def test_the_wallet_signature_runs_out_and_belongs_to_its_session(
    services: Services, clock: FixedClock, wallet: tuple[LocalAccount, Enrolled]
) -> None:
    account, owner = wallet
    token, other = full_session(services, owner.user_id), full_session(services, owner.user_id)
    assert confirm_wallet(services, token, owner.user_id, account, challenge(services, account, "reauth", owner.user_id)) == ""
    refused = step_up.confirm_second_factor(services, token=other, user_id=owner.user_id, code=next_totp_code(services, clock, owner.secret))
    assert refused.message == NEEDS_WALLET_FIRST and not step_up.is_fresh(services, other, owner.user_id)
    clock.advance(services.settings.step_up_lifetime)
    late = step_up.confirm_second_factor(services, token=token, user_id=owner.user_id, code=next_totp_code(services, clock, owner.secret))
    assert late.message == NEEDS_WALLET_FIRST and not step_up.is_fresh(services, token, owner.user_id)


def assert_still_needs_wallet(services: Services, clock: FixedClock, token: str, owner: Enrolled) -> None:
    result = step_up.confirm_second_factor(services, token=token, user_id=owner.user_id, code=next_totp_code(services, clock, owner.secret))
    assert result.message == NEEDS_WALLET_FIRST
    assert not step_up.is_fresh(services, token, owner.user_id)


def test_a_reauth_signature_by_another_key_is_refused(
    services: Services, clock: FixedClock, wallet: tuple[LocalAccount, Enrolled]
) -> None:
    account, owner = wallet
    token, thief = full_session(services, owner.user_id), Account.create()
    # The account's address in the message, signed by another key.
    forged = confirm_wallet(services, token, owner.user_id, thief, challenge(services, account, "reauth", owner.user_id))
    assert forged == wallet_flows.SIGN_IN_FAILED
    # Another wallet's own, valid signature on a message for this account.
    other_wallet = confirm_wallet(services, token, owner.user_id, thief, challenge(services, thief, "reauth", owner.user_id))
    assert other_wallet == "That is not the wallet of this account."
    assert_still_needs_wallet(services, clock, token, owner)


def test_a_challenge_for_another_user_or_purpose_is_refused(
    services: Services, clock: FixedClock, make_user: Callable[..., int], wallet: tuple[LocalAccount, Enrolled]
) -> None:
    account, owner = wallet
    token = full_session(services, owner.user_id)
    someone_else = make_user()
    for purpose, for_user in (("reauth", someone_else), ("reauth", None), ("sign_in", None), ("sign_in", owner.user_id), ("link", owner.user_id)):
        answer = confirm_wallet(services, token, owner.user_id, account, challenge(services, account, purpose, for_user))
        assert answer == wallet_flows.SIGN_IN_FAILED, (purpose, for_user)
    assert_still_needs_wallet(services, clock, token, owner)


def test_a_reauth_challenge_works_once_and_only_from_its_tab(
    services: Services, clock: FixedClock, wallet: tuple[LocalAccount, Enrolled]
) -> None:
    account, owner = wallet
    token = full_session(services, owner.user_id)
    issued = challenge(services, account, "reauth", owner.user_id)
    signature = sign(account, issued.message)
    other_tab = step_up.confirm_wallet(
        services, token=token, user_id=owner.user_id, nonce=issued.nonce, signature=signature, binding="other-tab"
    )
    assert other_tab == wallet_flows.SIGN_IN_FAILED
    replay = step_up.confirm_wallet(services, token=token, user_id=owner.user_id, nonce=issued.nonce, signature=signature, binding=TAB)
    assert replay == wallet_flows.SIGN_IN_FAILED  # the failed attempt burnt it
    assert_still_needs_wallet(services, clock, token, owner)


def test_a_wallet_signature_for_another_users_session_does_not_count(
    services: Services, clock: FixedClock, wallet: tuple[LocalAccount, Enrolled], user: Enrolled, token: str
) -> None:
    account, owner = wallet
    # A reauth of the wallet's owner, sent with someone else's session token, marks nothing.
    step_up.confirm_wallet(
        services, token=token, user_id=owner.user_id,
        nonce=(issued := challenge(services, account, "reauth", owner.user_id)).nonce,
        signature=sign(account, issued.message), binding=TAB,
    )
    owner_token = full_session(services, owner.user_id)
    assert_still_needs_wallet(services, clock, owner_token, owner)
    assert not step_up.is_fresh(services, token, owner.user_id)


def test_freshness_is_only_for_a_live_full_session_of_that_user(
    services: Services, clock: FixedClock, user: Enrolled, token: str, make_user: Callable[..., int]
) -> None:
    other_user = make_user()
    assert step_up.confirm_second_factor(services, token=token, user_id=user.user_id, code=next_totp_code(services, clock, user.secret)).ok
    assert step_up.is_fresh(services, token, user.user_id)
    assert not step_up.is_fresh(services, token, other_user)  # someone else's id with this token
    # A first-factor-only session cannot be made fresh at all.
    ticket = flows.start_session_handoff(services, user_id=user.user_id, factor_level=sessions.FIRST_FACTOR, remember=False, next_path="/", tab=TEST_TAB)
    pending = flows.claim_session(services, ticket=ticket.ticket, bind=ticket.bind, tab=TEST_TAB, ip=None, user_agent=None).token
    refused = step_up.confirm_second_factor(services, token=pending, user_id=user.user_id, code=next_totp_code(services, clock, user.secret))
    assert refused.message == step_up.SIGN_IN_AGAIN and not step_up.is_fresh(services, pending, user.user_id)
