"""Database engine: one per URL, SQLite in WAL mode with a busy timeout."""

from __future__ import annotations

from collections.abc import Sequence

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


def take_or_insert(
    session: Session,
    table: sa.Table,
    match: dict[str, object],
    *,
    values: dict[str, object],
    first: dict[str, object],
    returning: Sequence[str],
    only_if: Sequence[sa.ColumnElement[bool]] = (),
):
    """Update the row matching `match` with `values` if `only_if` holds, creating it with `first` when missing.

    One atomic ``UPDATE … WHERE … RETURNING`` (dialect-neutral; PostgreSQL's READ COMMITTED
    re-checks the condition after the row lock), so racing requests never pass a condition
    together; when the row does not exist it is inserted, and a request that loses that race
    updates the winner's row. Returns the `returning` columns, or None when the row exists
    and `only_if` refused it. Not committed.
    """
    where = [table.c[name] == value for name, value in match.items()]
    columns = [table.c[name] for name in returning]
    take = sa.update(table).where(*where, *only_if).values(values).returning(*columns)
    row = session.execute(take).first()
    if row is not None:
        return row
    try:
        with session.begin_nested():
            return session.execute(sa.insert(table).values({**match, **first}).returning(*columns)).first()
    except IntegrityError:  # it exists: refused, or another request inserted it just now
        return session.execute(take).first()


def increment_counter(
    session: Session,
    table: sa.Table,
    match: dict[str, object],
    column: str,
    *,
    also_set: dict[str, object] | None = None,
) -> int:
    """Add one to `column` of the row matching `match` (creating it at 1) and return the new value. Not committed."""
    extra = also_set or {}
    row = take_or_insert(
        session, table, match, values={column: table.c[column] + 1, **extra}, first={column: 1, **extra}, returning=[column]
    )
    if row is None:
        raise RuntimeError(f"could not count on {table.name}")
    return row[0]


def use_once(session: Session, table: sa.Table, *conditions, values: dict) -> bool:
    """Use something at most once: a conditional UPDATE that only one request can win.

    `conditions` select the row *and* state that it is still unused (a code's `used_at IS
    NULL`, a TOTP counter below the step, a pending secret equal to the one read); `values`
    mark it used. However many requests race, exactly one gets True. Not committed here:
    the use commits with the rest of its use case. Serves TOTP steps, backup codes, pending
    secrets and, next, emailed and texted codes.
    """
    return session.execute(sa.update(table).where(*conditions).values(**values)).rowcount == 1
