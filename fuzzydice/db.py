"""Database engine: one per URL, SQLite in WAL mode with a busy timeout."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

SQLITE_BUSY_TIMEOUT_MS = 5000


def make_engine(url: str) -> Engine:
    """Create an engine for `url`; SQLite gets WAL, a busy timeout and foreign keys."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # pragma: no cover - trivial
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def new_session(engine: Engine) -> Session:
    """Open a session whose objects stay readable after commit."""
    return Session(engine, expire_on_commit=False)


def increment_counter(
    session: Session,
    table: sa.Table,
    match: dict[str, object],
    column: str,
    *,
    also_set: dict[str, object] | None = None,
) -> int:
    """Add one to `column` of the row matching `match` (creating it at 1) and return the new value.

    One atomic ``UPDATE … RETURNING`` (dialect-neutral); when the row does not exist yet it is
    inserted, and a worker that loses that race counts on the winner's row. Not committed.
    """
    where = [table.c[name] == value for name, value in match.items()]
    for _ in range(3):
        value = session.execute(
            sa.update(table)
            .where(*where)
            .values({column: table.c[column] + 1, **(also_set or {})})
            .returning(table.c[column])
        ).scalar_one_or_none()
        if value is not None:
            return value
        try:
            with session.begin_nested():
                session.execute(sa.insert(table).values({**match, column: 1, **(also_set or {})}))
            return 1
        except IntegrityError:
            continue  # another worker inserted it first
    raise RuntimeError(f"could not count on {table.name}")
