"""Security events of an account, kept so the owner can see what happened (and be warned).

Each entry says who (user, session, IP, user agent), what (`Action`), how it went
(`Result`) and when, with a few facts in `details` — never a secret: `record` refuses
keys that name one and values that are not plain scalars. Entries are written in the
transaction of the change they record and removed after `settings.audit_retention`
(`delete_expired_events`, run by the cleanup). Actions are stable codes; the UI words them.
"""

from __future__ import annotations

import json
import re
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
    FUNDS_REQUESTED = "funds_requested"
    """The demo faucet sent test funds (`details`: chain_id, address; result failed: the chain did not take them)."""
    PLAY_STARTED = "play_started"
    PLAY_ENDED = "play_ended"
    """`details.reason`: `user` or `expired`."""


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

    @classmethod
    def of_row(cls, row) -> Origin:
        """The origin of a request made in the session of `row` (an `auth_sessions` row)."""
        return cls(session_id=row.id, ip=row.ip, user_agent=row.user_agent)


ALERT_KINDS = frozenset({Action.SECOND_STEP_LOCKED})
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

    Raises:
        ValueError: a detail's key names something secret-looking, or its value is not a
            str, int, bool or None. Keys are written in code, so any test that runs the
            caller finds the mistake; in production the change it records is refused
            (rolled back with the transaction) rather than a secret written.
    """
    origin = origin or Origin()
    session.execute(
        sa.insert(_table).values(
            user_id=user_id,
            session_id=origin.session_id,
            kind=str(Action(action)),
            result=str(Result(result)),
            ip=_clip(origin.ip, 64),
            user_agent=_clip(origin.user_agent, 512),
            details=checked_details(details),
            created_at=now,
        )
    )


DETAIL_MAX_KEYS = 12
DETAIL_MAX_CHARS = 200
"""Longer strings are cut (a user agent or an address is a fact; an essay is not)."""

_DENIED_PARTS = (
    "password", "passwd", "passphrase", "secret", "token", "signature", "mnemonic", "private",
    "credential", "cookie", "ticket", "nonce", "otp", "apikey",
)
"""Key names containing any of these are refused wherever they occur in the name."""

_DENIED_WORDS = frozenset({"code", "key", "pin", "pw", "pwd", "pass", "seed", "hash", "bind", "sig", "salt", "jwt"})
"""Key names with one of these as a word (`backup_code`, `key_id`, `codes`) are refused."""

_KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def _clip(text: str | None, limit: int) -> str | None:
    return (text or "")[:limit] or None


def _denied(key: str) -> bool:
    if any(part in key for part in _DENIED_PARTS):
        return True
    words = {word.removesuffix("s") for word in key.split("_")} | set(key.split("_"))
    return bool(words & _DENIED_WORDS)


def checked_details(details: Mapping[str, str | int | bool | None] | None) -> str | None:
    """`details` as compact JSON after the checks of `record` (None when empty); strings are cut short."""
    if not details:
        return None
    if len(details) > DETAIL_MAX_KEYS:
        raise ValueError(f"audit details: at most {DETAIL_MAX_KEYS} keys")
    clean: dict[str, str | int | bool | None] = {}
    for key, value in details.items():
        if not isinstance(key, str) or not _KEY_PATTERN.match(key):
            raise ValueError(f"audit details: key {key!r} is not a lower_snake_case name")
        if _denied(key):
            raise ValueError(f"audit details: key {key!r} looks like a secret; audit entries never hold one")
        if value is not None and not isinstance(value, (str, int, bool)):
            raise ValueError(f"audit details: {key!r} must be a str, int, bool or None, not {type(value).__name__}")
        clean[key] = value[:DETAIL_MAX_CHARS] if isinstance(value, str) else value
    return json.dumps(clean, separators=(",", ":"), sort_keys=True)


@dataclass(frozen=True)
class Event:
    """One entry of a user's trail, as the security center shows it."""

    id: int
    action: str
    result: str
    created_at: datetime
    ip: str | None
    user_agent: str | None
    session_id: int | None
    details: dict


def events(services: Services, user_id: int, *, before_id: int | None = None, limit: int = 20) -> list[Event]:
    """A user's entries, newest first, `limit` at a time (at most 100).

    Page on with `before_id` = the `id` of the last entry of the previous page.
    """
    limit = max(1, min(limit, 100))
    t = _table
    query = sa.select(t).where(t.c.user_id == user_id)
    if before_id is not None:
        cursor = (
            sa.select(t.c.created_at).where(t.c.id == before_id, t.c.user_id == user_id).scalar_subquery()
        )
        query = query.where(
            sa.or_(t.c.created_at < cursor, sa.and_(t.c.created_at == cursor, t.c.id < before_id))
        )
    query = query.order_by(t.c.created_at.desc(), t.c.id.desc()).limit(limit)
    with services.db() as session:
        rows = session.execute(query).all()
    return [
        Event(
            id=row.id,
            action=row.kind,
            result=row.result,
            created_at=row.created_at,
            ip=row.ip,
            user_agent=row.user_agent,
            session_id=row.session_id,
            details=json.loads(row.details) if row.details else {},
        )
        for row in rows
    ]


def delete_expired_events(session: Session, before: datetime) -> int:
    """Remove entries older than `before` (now minus `settings.audit_retention`); returns how many."""
    count = session.execute(sa.delete(_table).where(_table.c.created_at < before)).rowcount
    session.commit()
    return count


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
