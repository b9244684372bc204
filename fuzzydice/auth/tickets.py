"""Claim tickets: the one-time hand-off of a new session to the browser that earned it.

The sign-in event handler issues a ticket and a bind value; the browser gets the
bind value as a short-lived SameSite=Strict cookie named after the ticket's tag
(two tabs signing in at once do not overwrite each other's) and posts the ticket
with its tab's client token in a top-level form to the claim route. Whoever
deletes the row first wins, so a ticket works once; it dies after
`claim_ticket_ttl`, without its bind cookie, and in any other tab.
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from fuzzydice.auth.tokens import new_token, token_hash
from fuzzydice.models import ClaimTicket
from fuzzydice.settings import Settings


TAG_PATTERN = re.compile(r"^[0-9a-f]{16}$")


@dataclass(frozen=True)
class IssuedTicket:
    """A ticket and the value that binds it to one browser (both secrets), and the tag naming its bind cookie."""

    ticket: str
    bind: str
    tag: str


@dataclass(frozen=True)
class RedeemedTicket:
    """What a redeemed ticket grants."""

    user_id: int
    factor_level: int
    remember: bool
    next_path: str
    replaces_token_hash: str | None
    first_factor: str | None = None
    second_factor: str | None = None


def issue_ticket(
    session: Session,
    *,
    user_id: int,
    factor_level: int,
    remember: bool,
    next_path: str,
    now: datetime,
    settings: Settings,
    tab: str,
    replaces_token: str | None = None,
    first_factor: str | None = None,
    second_factor: str | None = None,
) -> IssuedTicket:
    """Store a new ticket (hashes only) for the tab whose client token is `tab`; return its secrets."""
    ticket, bind = new_token(), new_token()
    session.add(
        ClaimTicket(
            ticket_hash=token_hash(ticket),
            bind_hash=token_hash(bind),
            user_id=user_id,
            factor_level=factor_level,
            remember=remember,
            next_path=next_path,
            tab_hash=token_hash(tab),
            replaces_token_hash=token_hash(replaces_token) if replaces_token else None,
            first_factor=first_factor,
            second_factor=second_factor,
            created_at=now,
            expires_at=now + settings.claim_ticket_ttl,
        )
    )
    session.commit()
    return IssuedTicket(ticket=ticket, bind=bind, tag=secrets.token_hex(8))


def redeem_ticket(session: Session, ticket: str, bind: str | None, tab: str | None, now: datetime) -> RedeemedTicket | None:
    """Consume `ticket`; None when unknown, already used, expired, or not bound to `bind` and `tab`.

    The row is deleted before anything is checked, so a failed attempt also burns it.
    """
    if not ticket:
        return None
    table = ClaimTicket.__table__
    row = session.execute(
        sa.delete(table)
        .where(table.c.ticket_hash == token_hash(ticket))
        .returning(
            table.c.bind_hash,
            table.c.user_id,
            table.c.factor_level,
            table.c.remember,
            table.c.next_path,
            table.c.replaces_token_hash,
            table.c.tab_hash,
            table.c.expires_at,
            table.c.first_factor,
            table.c.second_factor,
        )
    ).first()
    session.commit()
    if row is None:
        return None
    if now >= row.expires_at:
        return None
    if not bind or not hmac.compare_digest(row.bind_hash, token_hash(bind)):
        return None
    if not tab or not hmac.compare_digest(row.tab_hash, token_hash(tab)):
        return None
    return RedeemedTicket(
        user_id=row.user_id,
        factor_level=row.factor_level,
        remember=row.remember,
        next_path=row.next_path,
        replaces_token_hash=row.replaces_token_hash,
        first_factor=row.first_factor,
        second_factor=row.second_factor,
    )


def delete_expired_tickets(session: Session, now: datetime) -> int:
    """Remove expired tickets; returns how many."""
    table = ClaimTicket.__table__
    count = session.execute(sa.delete(table).where(table.c.expires_at <= now)).rowcount
    session.commit()
    return count
