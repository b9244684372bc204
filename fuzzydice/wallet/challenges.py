"""Housekeeping of stored SIWE challenges."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from fuzzydice.auth.tokens import token_hash
from fuzzydice.models import SiweChallenge
from fuzzydice.services import Services


def delete_expired_challenges(session: Session, now: datetime) -> int:
    """Remove challenges nobody signed in time."""
    table = SiweChallenge.__table__
    count = session.execute(sa.delete(table).where(table.c.expires_at <= now)).rowcount
    session.commit()
    return count


def forget_tab_challenges(services: Services, binding: str) -> int:
    """Sign-out: every unsigned challenge this tab asked for dies with the session."""
    table = SiweChallenge.__table__
    with services.db() as session:
        count = session.execute(sa.delete(table).where(table.c.binding_hash == token_hash(binding))).rowcount
        session.commit()
        return count
