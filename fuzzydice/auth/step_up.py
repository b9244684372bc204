"""Fresh second factor for sensitive changes (re-enrol, new backup codes, link or unlink an identity).

A session becomes "fresh" for `step_up_lifetime` after the user gives a second
factor again. Wallet users first sign a fresh message too; a wallet signature
alone never makes a session fresh, so a stolen key cannot change the second factor.
"""

from __future__ import annotations

import sqlalchemy as sa

from fuzzydice.auth import identity_rows
from fuzzydice.auth.freshness import full_row, require_fresh
from fuzzydice.auth.sessions import FULL
from fuzzydice.mfa import flows as mfa_flows
from fuzzydice.models import AuthSession
from fuzzydice.outcome import Code, Failure, Ok, Outcome, fail
from fuzzydice.services import Services
from fuzzydice.wallet import flows as wallet_flows


_sessions = AuthSession.__table__


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
    services: Services, *, session_id: int | None, user_id: int, code: str, method: mfa_flows.Method = "totp"
) -> Outcome[None]:
    """Check a code (under the step-up lock); on success this session may make sensitive changes.

    A full session only; a wallet account signs a fresh message first. Both are checked, the
    code is used and the session is marked fresh in one transaction.
    """
    now = services.clock.now()

    def full_and_signed(session, row) -> Failure | None:
        if row.factor_level < FULL:
            return fail(Code.SESSION_ENDED)
        wallet_signed = row.wallet_fresh_until is not None and row.wallet_fresh_until > now
        if not wallet_signed and identity_rows.exists(session, user_id, identity_rows.of_kind(identity_rows.WALLET)):
            return fail(Code.NEEDS_WALLET_FIRST)
        return None

    def mark_fresh(session) -> None:
        session.execute(
            sa.update(_sessions)
            .where(_sessions.c.id == session_id, _sessions.c.user_id == user_id)
            .values(fresh_until=now + services.settings.step_up_lifetime)
        )

    if session_id is None:
        return fail(Code.SESSION_ENDED)
    return mfa_flows.verify_second_step(
        services, user_id=user_id, session_id=session_id, code=code, method=method,
        precondition=full_and_signed, on_success=mark_fresh,
    )


def is_fresh(services: Services, session_id: int | None, user_id: int) -> bool:
    """Whether this live, full session of `user_id` gave a second factor again recently enough."""
    with services.db() as session:
        return require_fresh(session, services.clock.now(), user_id=user_id, session_id=session_id) is None
