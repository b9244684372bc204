"""First-factor throttling: backoff per (account, IP) and a per-account cap.

A stranger cannot lock a user out with a handful of tries: the backoff is per
(account, IP), and only `account_lock_failures` consecutive failures lock the
account itself. Counters move with single atomic statements
(``UPDATE ... RETURNING``), so parallel workers never lose an increment.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session

from fuzzydice.db import increment_counter
from fuzzydice.models import SignInThrottle, User
from fuzzydice.settings import Settings


def account_key(email_normalized: str) -> str:
    """A stable key for an account name, known or not (unknown emails are throttled the same)."""
    return hashlib.sha256(email_normalized.encode("utf-8")).hexdigest()


def backoff_delay(failures: int, settings: Settings) -> timedelta:
    """Delay earned by `failures` consecutive failures: none up to the free ones, then 1 s doubling to the cap."""
    over = failures - settings.backoff_free_failures
    if over < 0:
        return timedelta(0)
    seconds = settings.backoff_initial.total_seconds() * (2 ** min(over, 30))
    return min(timedelta(seconds=seconds), settings.backoff_max)


def retry_after(session: Session, key: str, ip: str, now: datetime) -> timedelta | None:
    """Time left before (key, ip) may try again, or None when it may try now."""
    blocked_until = session.exec(
        sa.select(SignInThrottle.blocked_until).where(SignInThrottle.account_key == key, SignInThrottle.ip == ip)
    ).scalar_one_or_none()
    if blocked_until is None or blocked_until <= now:
        return None
    return blocked_until - now


def record_failure(session: Session, key: str, ip: str, now: datetime, settings: Settings) -> int:
    """Count one failure for (key, ip) atomically and set its backoff; return the new count."""
    table = SignInThrottle.__table__
    failures = increment_counter(session, table, {"account_key": key, "ip": ip}, "failures", also_set={"updated_at": now})
    delay = backoff_delay(failures, settings)
    if delay:
        session.execute(
            sa.update(table).where(table.c.account_key == key, table.c.ip == ip).values(blocked_until=now + delay)
        )
    session.commit()
    return failures


def clear_failures(session: Session, key: str, ip: str) -> None:
    """Forget the failures of (key, ip) after a success."""
    table = SignInThrottle.__table__
    session.execute(sa.delete(table).where(table.c.account_key == key, table.c.ip == ip))


def record_account_failure(session: Session, user_id: int, now: datetime, settings: Settings) -> int:
    """Count a consecutive failure on the account; lock it at the cap. Returns the new count."""
    table = User.__table__
    count = session.execute(
        sa.update(table)
        .where(table.c.id == user_id)
        .values(consecutive_failures=table.c.consecutive_failures + 1)
        .returning(table.c.consecutive_failures)
    ).scalar_one()
    if count >= settings.account_lock_failures:
        session.execute(
            sa.update(table).where(table.c.id == user_id, table.c.locked_at.is_(None)).values(locked_at=now)
        )
    session.commit()
    return count


def delete_stale_throttles(session: Session, older_than: datetime) -> int:
    """Forget (account, IP) counters untouched since `older_than` whose backoff has run out."""
    table = SignInThrottle.__table__
    count = session.execute(
        sa.delete(table).where(
            table.c.updated_at < older_than,
            sa.or_(table.c.blocked_until.is_(None), table.c.blocked_until < older_than),
        )
    ).rowcount
    session.commit()
    return count
