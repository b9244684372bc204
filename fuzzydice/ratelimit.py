"""Fixed-window request limits counted in the database (shared by every worker)."""

from __future__ import annotations

import ipaddress
import math
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session

from fuzzydice.db import increment_counter, take_or_insert
from fuzzydice.models import RateLimitWindow

_table = RateLimitWindow.__table__


def window_start(now: datetime, window: timedelta) -> datetime:
    """The start of the fixed window that holds `now`."""
    seconds = int(window.total_seconds())
    return datetime.fromtimestamp(int(now.timestamp()) // seconds * seconds, tz=now.tzinfo)


def count_one(session: Session, key: str, *, window: timedelta, now: datetime) -> int:
    """Count one request for `key` in its current window; how many the window holds now (committed)."""
    count = increment_counter(session, _table, {"key": key, "window_start": window_start(now, window)}, "count")
    session.commit()
    return count


def allow(session: Session, key: str, *, limit: int, window: timedelta, now: datetime) -> bool:
    """Count one request for `key`; False once `limit` requests were counted in this window."""
    return count_one(session, key, window=window, now=now) <= limit


def network_of(ip: str | None) -> str:
    """The client address as limits count it: IPv4 as is, IPv6 by its /64 (what one subscriber gets).

    Counting single IPv6 addresses would let anyone with one /64 rotate through 2**64 of them.
    """
    text = (ip or "").strip()
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return text[:64] or "unknown"
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def per_ip(action: str, ip: str | None) -> str:
    """The key of `action` counted per client address (IPv6: per /64)."""
    return f"{action}:{network_of(ip)}"


def time_left(now: datetime, window: timedelta) -> timedelta:
    """Time until the fixed window that holds `now` ends."""
    return window_start(now, window) + window - now


def wait_in_words(wait: timedelta) -> str:
    """How long to wait, as the refusals say it: seconds up to a minute and a half, then minutes."""
    seconds = max(1, math.ceil(wait.total_seconds()))
    if seconds <= 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{math.ceil(seconds / 60)} minutes"


def count_request(session: Session, key: str, *, limit: int, window: timedelta, now: datetime) -> timedelta | None:
    """Count one request for `key`: None when allowed, else how long until it may try again."""
    return count_refusal(session, key, limit=limit, window=window, now=now)[0]


def count_refusal(
    session: Session, key: str, *, limit: int, window: timedelta, now: datetime
) -> tuple[timedelta | None, bool]:
    """`count_request`, also telling whether this is the window's first refusal (worth one audit entry:
    the rest of a flood is not, it must not fill the table)."""
    count = count_one(session, key, window=window, now=now)
    if count <= limit:
        return None, False
    return time_left(now, window), count == limit + 1


def reserve(session: Session, key: str, *, limit: int, window: timedelta, now: datetime) -> datetime | None:
    """Take one of the `limit` slots of `key`'s current window; its start, or None when all are taken.

    One conditional ``UPDATE … WHERE count < limit … RETURNING`` (re-checked after the row
    lock on PostgreSQL's READ COMMITTED), so racing requests never take more than `limit`;
    a lost insert race counts on the winner's row. Not committed: part of the caller's transaction.
    """
    if limit < 1:
        return None
    start = window_start(now, window)
    taken = take_or_insert(
        session,
        _table,
        {"key": key, "window_start": start},
        values={"count": _table.c.count + 1},
        first={"count": 1},
        returning=["count"],
        only_if=[_table.c.count < limit],
    )
    return start if taken is not None else None


def release(session: Session, key: str, start: datetime) -> None:
    """Give back a slot `reserve` took in the window that began at `start`. Not committed."""
    session.execute(
        sa.update(_table)
        .where(_table.c.key == key, _table.c.window_start == start, _table.c.count > 0)
        .values(count=_table.c.count - 1)
    )


def exhausted(session: Session, key: str, *, limit: int, window: timedelta, now: datetime) -> timedelta | None:
    """How long until `key`'s window ends when all its slots are taken, else None (reads only)."""
    count = session.execute(
        sa.select(_table.c.count).where(_table.c.key == key, _table.c.window_start == window_start(now, window))
    ).scalar_one_or_none()
    return time_left(now, window) if count is not None and count >= limit else None


def delete_old_windows(session: Session, before: datetime) -> int:
    """Forget windows that started before `before`."""
    count = session.execute(sa.delete(_table).where(_table.c.window_start < before)).rowcount
    session.commit()
    return count
