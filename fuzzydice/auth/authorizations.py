"""What the account allows, as its owner's home page shows it: second factors and live sessions.

Read-only and Reflex-free; one database session. The security page is where they change.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from fuzzydice.auth.sessions import FULL
from fuzzydice.mfa import registry
from fuzzydice.mfa.kinds.backup_codes import remaining
from fuzzydice.models import AuthSession
from fuzzydice.services import Services

_sessions = AuthSession.__table__


@dataclass(frozen=True)
class Authorizations:
    """The account's second factors and its live sessions."""

    factor_kinds: tuple[str, ...]
    """The kinds of second factor set up (`totp`, `backup_codes`, …), oldest first, each once."""
    backup_codes_left: int
    signed_in_sessions: int
    """Live sessions with both factors done (the one asking included)."""
    pending_sessions: int
    """Live sessions that passed the first step only (someone knows a first factor)."""


def authorizations(services: Services, user_id: int) -> Authorizations:
    """The second factors and live sessions of `user_id` (only this account's rows are read)."""
    now = services.clock.now()
    live = sa.and_(
        _sessions.c.user_id == user_id, _sessions.c.idle_expires_at > now, _sessions.c.absolute_expires_at > now
    )
    full = sa.case((_sessions.c.factor_level >= FULL, 1), else_=0)
    with services.db() as session:
        kinds = tuple(dict.fromkeys(factor.kind for factor in registry.factors_of(session, user_id)))
        left = remaining(session, user_id)
        total, signed_in = session.execute(
            sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(full), 0)).where(live)
        ).one()
    return Authorizations(
        factor_kinds=kinds,
        backup_codes_left=int(left),
        signed_in_sessions=int(signed_in),
        pending_sessions=int(total) - int(signed_in),
    )
