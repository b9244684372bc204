"""The demo outbox: every mail and SMS is stored as a row instead of being sent.

Demo mode reads them on /demo/outbox, so someone who registers can read the
code they were sent. Nothing here logs a body or a recipient (codes!), and a
database error is logged by its type only (SQLAlchemy's message would quote the
statement's parameters).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from fuzzydice.clock import Clock
from fuzzydice.db import new_session
from fuzzydice.models import OutboxMessage
from fuzzydice.outcome import Code, Ok, Outcome, fail

log = logging.getLogger(__name__)

MAIL = "mail"
SMS = "sms"
PAGE_SIZE = 100
"""How many of the newest messages the outbox page lists."""


@dataclass(frozen=True)
class StoredMessage:
    """One message of the outbox, as the page shows it."""

    id: int
    channel: str
    recipient: str
    subject: str | None
    body_text: str
    body_html: str | None
    created_at: datetime


class Outbox:
    """A `Notifier` that stores each message in the `outbox_messages` table."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    def send_mail(self, to: str, subject: str, text: str, html: str | None = None) -> Outcome[str]:
        """Store a mail; Ok(its row id) or Failure(SEND_FAILED)."""
        return self._store(MAIL, to, subject, text, html)

    def send_sms(self, to: str, text: str) -> Outcome[str]:
        """Store an SMS; Ok(its row id) or Failure(SEND_FAILED)."""
        return self._store(SMS, to, None, text, None)

    def _store(self, channel: str, to: str, subject: str | None, text: str, html: str | None) -> Outcome[str]:
        row = OutboxMessage(
            channel=channel, recipient=to, subject=subject, body_text=text, body_html=html,
            created_at=self._clock.now(),
        )  # fmt: skip
        try:
            with new_session(self._engine) as session:
                session.add(row)
                session.commit()
                return Ok(str(row.id))
        except SQLAlchemyError as error:
            log.error("outbox: could not store a %s message (%s)", channel, type(error).__name__)
            return fail(Code.SEND_FAILED)


def recent_messages(engine: Engine, limit: int = PAGE_SIZE) -> list[StoredMessage]:
    """The newest `limit` messages of the outbox, newest first."""
    table = OutboxMessage.__table__
    with new_session(engine) as session:
        rows = session.execute(
            sa.select(
                table.c.id, table.c.channel, table.c.recipient, table.c.subject,
                table.c.body_text, table.c.body_html, table.c.created_at,
            ).order_by(table.c.created_at.desc(), table.c.id.desc()).limit(limit)
        ).all()  # fmt: skip
    return [StoredMessage(*row) for row in rows]


def delete_old_messages(session: Session, before: datetime) -> int:
    """Remove outbox messages stored before `before`; returns how many."""
    table = OutboxMessage.__table__
    count = session.execute(sa.delete(table).where(table.c.created_at < before)).rowcount
    session.commit()
    return count
