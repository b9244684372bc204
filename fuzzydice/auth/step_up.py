"""Fresh second factor for sensitive changes (re-enrol, new backup codes, link or unlink an identity).

A session becomes "fresh" for `step_up_lifetime` after the user gives a second
factor again. Wallet users first sign a fresh message too; a wallet signature
alone never makes a session fresh, so a stolen key cannot change the second factor.
"""

from __future__ import annotations

import sqlalchemy as sa

from fuzzydice.auth import identity_rows
from fuzzydice.auth.sessions import FULL, live_row, revoke_other_sessions
from fuzzydice.auth.tokens import token_hash
from fuzzydice.mfa import flows as mfa_flows
from fuzzydice.mfa.flows import SecondStepResult
from fuzzydice.auth.freshness import full_row
from fuzzydice.models import AuthSession
from fuzzydice.outcome import Code, Ok, Outcome, fail
from fuzzydice.services import Services
from fuzzydice.wallet import flows as wallet_flows

NEEDS_WALLET_FIRST = "Sign the message with your wallet first, then enter the code."
NOT_FRESH = "Confirm it's you with your authenticator code first."
SIGN_IN_AGAIN = "Your session has ended. Please sign in again."

_sessions = AuthSession.__table__


def _full_session(services: Services, token: str | None, user_id: int):
    """The row of this live session of `user_id` when it has both factors, else None."""
    with services.db() as session:
        row = live_row(session, services.clock.now(), user_id=user_id, token=token)
    return row if row is not None and row.factor_level >= FULL else None


def needs_wallet_signature(services: Services, user_id: int) -> bool:
    """Whether this user's step-up includes a wallet signature (the account has a wallet)."""
    with services.db() as session:
        return identity_rows.exists(session, user_id, identity_rows.of_kind(identity_rows.WALLET))


def confirm_wallet(
    services: Services, *, session_id: int | None, user_id: int, nonce: str, signature: str, binding: str
) -> Outcome[None]:
    """A wallet user signed a fresh `reauth` message with any wallet of the account.

    Failures: SESSION_ENDED, the signature's (`wallet.flows.verify_signature`), WRONG_WALLET.
    """
    with services.db() as session:
        if full_row(session, services.clock.now(), user_id=user_id, session_id=session_id) is None:
            return fail(Code.SESSION_ENDED)
    verified = wallet_flows.verify_signature(
        services, nonce=nonce, signature=signature, binding=binding, purpose="reauth", user_id=user_id
    )
    if not verified.ok:
        return verified
    with services.db() as session:
        if identity_rows.owner(session, identity_rows.wallet_of(verified.value)) != user_id:
            return fail(Code.WRONG_WALLET)
        now = services.clock.now()
        changed = session.execute(
            sa.update(_sessions)
            .where(_sessions.c.id == session_id, _sessions.c.user_id == user_id)
            .values(wallet_fresh_until=now + services.settings.step_up_lifetime)
        ).rowcount
        session.commit()
    return Ok() if changed else fail(Code.SESSION_ENDED)


def confirm_second_factor(
    services: Services, *, token: str, user_id: int, code: str, method: mfa_flows.Method = "totp"
) -> SecondStepResult:
    """Check a code (under the second-step lock); on success this session may make sensitive changes."""
    now = services.clock.now()
    row = _full_session(services, token, user_id)
    if row is None:
        return SecondStepResult(False, SIGN_IN_AGAIN)
    if needs_wallet_signature(services, user_id):
        if row.wallet_fresh_until is None or row.wallet_fresh_until <= now:
            return SecondStepResult(False, NEEDS_WALLET_FIRST)
    result = mfa_flows.verify_second_step(services, user_id=user_id, session_id=row.id, code=code, method=method)
    if result.ok:
        with services.db() as session:
            session.execute(
                sa.update(_sessions)
                .where(_sessions.c.token_hash == token_hash(token), _sessions.c.user_id == user_id)
                .values(fresh_until=now + services.settings.step_up_lifetime)
            )
            session.commit()
    return result


def is_fresh(services: Services, token: str | None, user_id: int) -> bool:
    """Whether this live, full session of `user_id` gave a second factor again recently enough."""
    return fresh_session_id(services, token, user_id) is not None


def fresh_session_id(services: Services, token: str | None, user_id: int) -> int | None:
    """The id of this live, full and fresh session of `user_id`, or None when it may not make sensitive changes."""
    row = _full_session(services, token, user_id)
    if row is not None and row.fresh_until and row.fresh_until > services.clock.now():
        return row.id
    return None


def end_other_sessions(services: Services, *, token: str, user_id: int) -> int:
    """After a sensitive change, every other session of the user ends (checklist: sessions must not survive it),
    and with them every sign-in still on its way: unclaimed tickets and unsigned wallet challenges."""
    with services.db() as session:
        count = revoke_other_sessions(session, user_id, token)
        session.commit()
        return count
