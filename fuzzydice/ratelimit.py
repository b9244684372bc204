"""Fixed-window request limits counted in the database (shared by every worker)."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session

from fuzzydice.db import increment_counter
from fuzzydice.models import RateLimitWindow

_table = RateLimitWindow.__table__


def window_start(now: datetime, window: timedelta) -> datetime:
    """The start of the fixed window that holds `now`."""
    seconds = int(window.total_seconds())
    return datetime.fromtimestamp(int(now.timestamp()) // seconds * seconds, tz=now.tzinfo)


def allow(session: Session, key: str, *, limit: int, window: timedelta, now: datetime) -> bool:
    """Count one request for `key`; False once `limit` requests were counted in this window."""
    count = increment_counter(session, _table, {"key": key, "window_start": window_start(now, window)}, "count")
    session.commit()
    return count <= limit


def delete_old_windows(session: Session, before: datetime) -> int:
    """Forget windows that started before `before`."""
    count = session.execute(sa.delete(_table).where(_table.c.window_start < before)).rowcount
    session.commit()
    return count
