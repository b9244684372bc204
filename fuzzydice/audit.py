"""Security events of an account, kept so the owner can see what happened (and be warned).

A first piece of the audit trail: events are written in the transaction of the change
they record. Kinds are stable codes; the UI words them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Session

from fuzzydice.models import AuditEvent
from fuzzydice.services import Services

class Action(StrEnum):
    """What happened (stable codes; the UI words them). With `Result`, an entry says how it went."""

    REGISTERED = "registered"
    SIGN_IN = "sign_in"
    """First factor (password or wallet signature; `details.method`)."""
    SECOND_STEP = "second_step"
    SECOND_STEP_LOCKED = "second_step_locked"
    """Wrong codes after a correct first factor locked the sign-in second step: someone may know the password."""
    STEP_UP = "step_up"
    FACTOR_ENROLLED = "factor_enrolled"
    FACTOR_REMOVED = "factor_removed"
    BACKUP_CODES_REGENERATED = "backup_codes_regenerated"
    BACKUP_CODE_USED = "backup_code_used"
    WALLET_LINKED = "wallet_linked"
    WALLET_UNLINKED = "wallet_unlinked"
    PASSWORD_ADDED = "password_added"
    PASSWORD_REMOVED = "password_removed"
    SESSIONS_ENDED = "sessions_ended"
    SIGN_OUT = "sign_out"


class Result(StrEnum):
    """How an action went."""

    OK = "ok"
    FAILED = "failed"
    THROTTLED = "throttled"
    LOCKED = "locked"
    REFUSED = "refused"


@dataclass(frozen=True)
class Origin:
    """Where a request came from: the session it ran in, its IP and user agent (all optional)."""

    session_id: int | None = None
    ip: str | None = None
    user_agent: str | None = None


SECOND_STEP_LOCKED = Action.SECOND_STEP_LOCKED

ALERT_KINDS = frozenset({SECOND_STEP_LOCKED})
ALERT_MAX_AGE = timedelta(days=30)

_table = AuditEvent.__table__


@dataclass(frozen=True)
class Alert:
    """An event the owner should see until they dismiss it."""

    kind: str
    ip: str | None
    created_at: datetime


def record(
    session: Session,
    action: Action,
    *,
    now: datetime,
    user_id: int | None,
    result: Result = Result.OK,
    origin: Origin | None = None,
    details: Mapping[str, str | int | bool | None] | None = None,
) -> None:
    """Add an entry to the caller's transaction (not committed here: it commits with the change it records).

    `details` holds facts, never secrets: no code, password, token or key, in any form.
    """
    origin = origin or Origin()
    session.execute(
        sa.insert(_table).values(user_id=user_id, kind=str(action), ip=(origin.ip or "")[:64] or None, created_at=now)
    )


def alerts(services: Services, user_id: int) -> list[Alert]:
    """Undismissed alerts of the last 30 days, newest first."""
    since = services.clock.now() - ALERT_MAX_AGE
    with services.db() as session:
        rows = session.execute(
            sa.select(_table.c.kind, _table.c.ip, _table.c.created_at)
            .where(
                _table.c.user_id == user_id,
                _table.c.kind.in_(ALERT_KINDS),
                _table.c.seen_at.is_(None),
                _table.c.created_at >= since,
            )
            .order_by(_table.c.created_at.desc(), _table.c.id.desc())
            .limit(20)
        ).all()
    return [Alert(kind=row.kind, ip=row.ip, created_at=row.created_at) for row in rows]


def dismiss_alerts(services: Services, user_id: int) -> int:
    """The owner has read their alerts."""
    with services.db() as session:
        count = session.execute(
            sa.update(_table)
            .where(_table.c.user_id == user_id, _table.c.kind.in_(ALERT_KINDS), _table.c.seen_at.is_(None))
            .values(seen_at=services.clock.now())
        ).rowcount
        session.commit()
        return count
