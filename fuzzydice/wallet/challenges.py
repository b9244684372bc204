"""Housekeeping of stored SIWE challenges."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from fuzzydice.models import SiweChallenge


def delete_expired_challenges(session: Session, now: datetime) -> int:
    """Remove challenges nobody signed in time."""
    table = SiweChallenge.__table__
    count = session.execute(sa.delete(table).where(table.c.expires_at <= now)).rowcount
    session.commit()
    return count
