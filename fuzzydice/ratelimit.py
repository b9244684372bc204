"""Fixed-window request limits counted in the database (shared by every worker)."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from fuzzydice.models import RateLimitWindow

_table = RateLimitWindow.__table__


def window_start(now: datetime, window: timedelta) -> datetime:
    """The start of the fixed window that holds `now`."""
    seconds = int(window.total_seconds())
    return datetime.fromtimestamp(int(now.timestamp()) // seconds * seconds, tz=now.tzinfo)


def allow(session: Session, key: str, *, limit: int, window: timedelta, now: datetime) -> bool:
    """Count one request for `key`; False once `limit` requests were counted in this window."""
    start = window_start(now, window)
    for _ in range(3):
        count = session.execute(
            sa.update(_table)
            .where(_table.c.key == key, _table.c.window_start == start)
            .values(count=_table.c.count + 1)
            .returning(_table.c.count)
        ).scalar_one_or_none()
        if count is None:
            try:
                with session.begin_nested():
                    session.execute(sa.insert(_table).values(key=key, window_start=start, count=1))
                count = 1
            except IntegrityError:
                continue
        session.commit()
        return count <= limit
    raise RuntimeError("could not count a request")


def delete_old_windows(session: Session, before: datetime) -> int:
    """Forget windows that started before `before`."""
    count = session.execute(sa.delete(_table).where(_table.c.window_start < before)).rowcount
    session.commit()
    return count
