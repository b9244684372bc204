"""Whether an account may sign in: the one rule password sign-in, wallet sign-in and session lookup share.

There is no lock a stranger can set: failed sign-ins only slow the attacker
(`fuzzydice.auth.throttle`). The only switch that shuts an account is an
operator's (`python -m fuzzydice.admin disable`), and a disabled account's live
sessions stop at their next lookup. The unlock path the owner controls (a link
by mail that lets the owner through the account-wide backoff of an ongoing attack)
comes with mail, in a later issue.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from fuzzydice.auth import identity, identity_rows
from fuzzydice.models import User
from fuzzydice.wallet.addresses import AddressError, checksum_address

DISABLED = "This account is disabled. Please contact the operator of this site."
"""Shown only to someone who proved the credential (right password or signature): no enumeration."""

_users = User.__table__


def may_sign_in() -> ColumnElement[bool]:
    """SQL condition on `users`: the account may sign in and use its sessions (no operator disabled it)."""
    return _users.c.disabled_at.is_(None)


def find_account(session: Session, who: str) -> int | None:
    """The id of the account with this email or wallet address, or None."""
    text = (who or "").strip()
    try:
        condition = identity_rows.wallet_of(checksum_address(text))
    except AddressError:
        email = identity.normalize_email(text)
        if email is None:
            return None
        condition = identity_rows.password_of(email)
    return identity_rows.owner(session, condition)


def set_disabled(session: Session, user_id: int, disabled: bool, now: datetime) -> bool:
    """Disable (and end every session of) or enable an account; True when its state changed."""
    if disabled:
        changed = session.execute(
            sa.update(_users).where(_users.c.id == user_id, _users.c.disabled_at.is_(None)).values(disabled_at=now)
        ).rowcount
        from fuzzydice.auth.sessions import revoke_other_sessions  # sessions reads may_sign_in from here

        revoke_other_sessions(session, user_id)  # live sessions and those on their way (tickets, wallet challenges)
    else:
        changed = session.execute(
            sa.update(_users).where(_users.c.id == user_id, _users.c.disabled_at.is_not(None)).values(disabled_at=None)
        ).rowcount
    session.commit()
    return bool(changed)
