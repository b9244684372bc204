"""Attack: someone who knows the password signs in while the owner is enrolling an authenticator.

Before the fix the pending secret and the fresh backup codes belonged to the user, so the
attacker's first-factor session was shown the owner's authenticator key and, once the owner
confirmed it, the owner's new backup codes. They now belong to the session that asked.
"""

from __future__ import annotations

from collections.abc import Callable

from fuzzydice.auth import flows
from fuzzydice.auth.sessions import FULL
from fuzzydice.clock import FixedClock
from fuzzydice.mfa import flows as mfa_flows
from fuzzydice.outcome import Code, Failure, Ok
from fuzzydice.services import Services
from tests.conftest import TEST_TAB, pending_session
from tests.mfa.conftest import code_at


def test_an_attacker_with_the_password_never_sees_the_owners_key_or_codes(
    services: Services, clock: FixedClock, make_user: Callable[..., int]
) -> None:
    owner = make_user()
    owner_token, owner_session = pending_session(services, owner)
    _, attacker_session = pending_session(services, owner)  # the same password, another browser

    owner_shown = mfa_flows.pending_enrolment(services, user_id=owner, session_id=owner_session)
    attacker_shown = mfa_flows.pending_enrolment(services, user_id=owner, session_id=attacker_session)
    assert owner_shown.ok and attacker_shown.ok
    owner_key, attacker_key = owner_shown.value, attacker_shown.value
    assert attacker_key.secret != owner_key.secret
    # A reload in either browser keeps its own secret (a scanned QR stays valid).
    assert mfa_flows.pending_enrolment(services, user_id=owner, session_id=owner_session) == Ok(owner_key)
    # The owner's code does not activate the attacker's pending secret, and vice versa.
    assert mfa_flows.activate_totp(
        services, user_id=owner, session_id=attacker_session, code=code_at(services, owner_key.secret)
    ) == Failure(Code.WRONG_CODE, attempts_left=4)

    clock.advance(services.settings.totp_period)
    assert mfa_flows.activate_totp(
        services, user_id=owner, session_id=owner_session, code=code_at(services, owner_key.secret)
    ).ok
    owner_codes = mfa_flows.backup_codes_to_show(services, user_id=owner, session_id=owner_session)
    assert owner_codes is not None and len(owner_codes) == services.settings.backup_code_count

    # The attacker's session gets neither the codes nor a way to enrol its own authenticator now.
    assert mfa_flows.backup_codes_to_show(services, user_id=owner, session_id=attacker_session) is None
    assert mfa_flows.pending_enrolment(services, user_id=owner, session_id=attacker_session) == Failure(
        Code.ALREADY_ENROLLED
    )
    replaced = mfa_flows.activate_totp(
        services, user_id=owner, session_id=attacker_session, code=code_at(services, attacker_key.secret)
    )
    assert replaced == Failure(Code.ALREADY_ENROLLED)
    # The owner's authenticator is the one that counts.
    clock.advance(services.settings.totp_period)
    _, signing_in = pending_session(services, owner)
    assert mfa_flows.verify_second_step(
        services, user_id=owner, session_id=signing_in, code=code_at(services, owner_key.secret)
    ).ok

    # The owner's codes follow the owner's browser into its full session, and nowhere else.
    ticket = flows.start_session_handoff(
        services, user_id=owner, factor_level=FULL, remember=False, next_path="/login/backup-codes",
        tab=TEST_TAB, replaces_token=owner_token,
    )
    claimed = flows.claim_session(services, ticket=ticket.ticket, bind=ticket.bind, tab=TEST_TAB, ip=None, user_agent=None)
    assert claimed is not None
    full = flows.current_session(services, claimed.token)
    assert full is not None and full.backup_codes_pending
    assert mfa_flows.backup_codes_to_show(services, user_id=owner, session_id=full.session_id) == owner_codes
    assert mfa_flows.backup_codes_to_show(services, user_id=owner, session_id=attacker_session) is None
