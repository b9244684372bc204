"""First-factor throttling: slow the attacker, never lock the owner out.

Three counters, each kept in the database so they hold across workers:

* per (account, IP): 1 s doubling to `backoff_max` after `backoff_free_failures`;
* per account, for sources new to it (the row whose ip is `NEW_SOURCES`): after
  `account_backoff_free_failures`, 1 s doubling to `account_backoff_max`, so guessing
  from many addresses stays slow. An IP the account completed its first factor from
  within `known_source_memory` is known and never waits for this one;
* per IP across accounts (password spraying): `sign_in_ip_failure_limit` failures a window.

An attempt is reserved before any hashing, in one transaction that counts it on every
counter only if none of them blocks it (conditional ``UPDATE … RETURNING``, re-checked
after the row lock on PostgreSQL's READ COMMITTED) and sets the backoff it earns; a
refused attempt counts nothing, so it does not extend a backoff. However many attempts
race, only the allowed number reach bcrypt. The reserved attempt counts as a failure
unless it succeeds: a success clears its (account, IP) backoff, records the source as
known and gives its other slots back.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session

from fuzzydice import ratelimit
from fuzzydice.db import take_or_insert
from fuzzydice.models import SignInThrottle
from fuzzydice.settings import Settings

NEW_SOURCES = "*"
"""The `ip` of an account's row that counts its failures from sources new to it."""

_table = SignInThrottle.__table__


@dataclass(frozen=True)
class Attempt:
    """A reserved attempt, or how long to wait when it was refused."""

    wait: timedelta | None = None
    known_source: bool = False
    failure_window: datetime | None = None


def account_key(email_normalized: str) -> str:
    """A stable key for an account name, known or not (unknown emails are throttled the same)."""
    return hashlib.sha256(email_normalized.encode("utf-8")).hexdigest()


def source(ip: str | None) -> str:
    """The IP as throttles store it: IPv6 by its /64 (`ratelimit.network_of`), never the account-wide marker."""
    text = ratelimit.network_of(ip)
    return text if text != NEW_SOURCES else "unknown"


def _delay(failures: int, free: int, initial: timedelta, cap: timedelta) -> timedelta:
    over = failures - free
    if over < 0:
        return timedelta(0)
    return min(timedelta(seconds=initial.total_seconds() * (2 ** min(over, 30))), cap)


def backoff_delay(failures: int, settings: Settings) -> timedelta:
    """Delay earned by `failures` failures of one (account, IP): none before the free ones run out, then 1 s doubling."""
    return _delay(failures, settings.backoff_free_failures, settings.backoff_initial, settings.backoff_max)


def account_backoff_delay(failures: int, settings: Settings) -> timedelta:
    """Delay earned by `failures` failures on an account from new sources."""
    return _delay(
        failures, settings.account_backoff_free_failures, settings.account_backoff_initial, settings.account_backoff_max
    )


def _failures_key(ip: str) -> str:
    return f"sign-in-failures:{ip}"


def _is_known(last_success_at: datetime | None, now: datetime, settings: Settings) -> bool:
    return last_success_at is not None and last_success_at > now - settings.known_source_memory


def admit(session: Session, ip: str, now: datetime, settings: Settings) -> timedelta | None:
    """Count a password sign-in request of `ip` (flood limit); the wait when over the limit, else None."""
    return ratelimit.count_request(
        session, ratelimit.per_ip("sign-in", ip), limit=settings.sign_in_ip_limit, window=settings.sign_in_ip_window, now=now
    )


def retry_after(session: Session, key: str, ip: str, now: datetime, settings: Settings) -> timedelta | None:
    """Time before `ip` may try `key` again, or None when it may try now. Reads only: a cheap early refusal."""
    ip = source(ip)
    rows = session.execute(
        sa.select(_table.c.ip, _table.c.blocked_until, _table.c.last_success_at).where(
            _table.c.account_key == key, _table.c.ip.in_([ip, NEW_SOURCES])
        )
    ).all()
    pair = next((row for row in rows if row.ip == ip), None)
    known = _is_known(pair.last_success_at if pair else None, now, settings)
    waits = [
        row.blocked_until - now
        for row in rows
        if (row.ip == ip or not known) and row.blocked_until is not None and row.blocked_until > now
    ]
    if spraying := ratelimit.exhausted(
        session,
        _failures_key(ip),
        limit=settings.sign_in_ip_failure_limit,
        window=settings.sign_in_ip_failure_window,
        now=now,
    ):
        waits.append(spraying)
    session.commit()  # end the read transaction
    return max(waits) if waits else None


def _take(session: Session, key: str, ip: str, now: datetime, settings: Settings) -> tuple[int, datetime | None] | None:
    """Count one attempt on the (key, ip) row unless it is blocked; set the delay it earns.

    Returns (failures counted, last success from there), or None when blocked. Not committed.
    """
    match = {"account_key": key, "ip": ip}
    row = take_or_insert(
        session,
        _table,
        match,
        # A pair (or account) quiet for `throttle_memory` starts over.
        values={
            "failures": sa.case((_table.c.updated_at < now - settings.throttle_memory, 1), else_=_table.c.failures + 1),
            "updated_at": now,
        },
        first={"failures": 1, "updated_at": now},
        returning=["failures", "last_success_at"],
        only_if=[sa.or_(_table.c.blocked_until.is_(None), _table.c.blocked_until <= now)],
    )
    if row is None:
        return None
    failures, last_success_at = row
    delay = account_backoff_delay(failures, settings) if ip == NEW_SOURCES else backoff_delay(failures, settings)
    if delay:
        session.execute(
            sa.update(_table).where(_table.c.account_key == key, _table.c.ip == ip).values(blocked_until=now + delay)
        )
    return failures, last_success_at


def _refused(session: Session, key: str, ip: str, now: datetime, settings: Settings) -> Attempt:
    session.rollback()  # nothing of a refused attempt is counted
    return Attempt(wait=retry_after(session, key, ip, now, settings) or timedelta(seconds=1))


def reserve_attempt(session: Session, key: str, ip: str, now: datetime, settings: Settings) -> Attempt:
    """Reserve one first-factor attempt of `ip` on `key` before hashing (one transaction, committed).

    Counted as a failure on the (account, IP) pair, on the account when `ip` is new to it,
    and on `ip`'s spraying budget; refused, with the wait, when any of them blocks.
    """
    ip = source(ip)
    pair = _take(session, key, ip, now, settings)
    if pair is None:
        return _refused(session, key, ip, now, settings)
    known = _is_known(pair[1], now, settings)
    if not known and _take(session, key, NEW_SOURCES, now, settings) is None:
        return _refused(session, key, ip, now, settings)
    window = ratelimit.reserve(
        session,
        _failures_key(ip),
        limit=settings.sign_in_ip_failure_limit,
        window=settings.sign_in_ip_failure_window,
        now=now,
    )
    if window is None:
        return _refused(session, key, ip, now, settings)
    session.commit()
    return Attempt(known_source=known, failure_window=window)


def record_success(session: Session, key: str, ip: str, now: datetime, attempt: Attempt) -> None:
    """The reserved attempt succeeded: clear the pair's backoff, remember the source, give the other slots back.

    The account-wide delay already set stays (it slows the attacker, and the owner's
    source is known from now on). Not committed: the caller commits with the sign-in.
    """
    ip = source(ip)
    session.execute(
        sa.update(_table)
        .where(_table.c.account_key == key, _table.c.ip == ip)
        .values(failures=0, blocked_until=None, last_success_at=now, updated_at=now)
    )
    if not attempt.known_source:
        session.execute(
            sa.update(_table)
            .where(_table.c.account_key == key, _table.c.ip == NEW_SOURCES, _table.c.failures > 0)
            .values(failures=_table.c.failures - 1)
        )
    if attempt.failure_window is not None:
        ratelimit.release(session, _failures_key(ip), attempt.failure_window)


def delete_stale_throttles(session: Session, older_than: datetime, known_since: datetime | None = None) -> int:
    """Forget counters untouched since `older_than` whose backoff has run out.

    Rows with a success after `known_since` stay: they make their IP a known source.
    """
    stale = [
        _table.c.updated_at < older_than,
        sa.or_(_table.c.blocked_until.is_(None), _table.c.blocked_until < older_than),
    ]
    if known_since is not None:
        stale.append(sa.or_(_table.c.last_success_at.is_(None), _table.c.last_success_at < known_since))
    count = session.execute(sa.delete(_table).where(*stale)).rowcount
    session.commit()
    return count
