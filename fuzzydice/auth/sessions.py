"""Server-side sessions: create, look up (sliding idle expiry), rotate and revoke."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from fuzzydice.auth import identity_rows
from fuzzydice.auth.account_status import may_sign_in
from fuzzydice.auth.tokens import new_token, token_hash
from fuzzydice.mfa.registry import kinds_from, usable_kinds_column
from fuzzydice.models import AuthSession, ClaimTicket, Identity, SiweChallenge, User
from fuzzydice.settings import Settings

FIRST_FACTOR = 1
FULL = 2


@dataclass(frozen=True)
class SessionInfo:
    """What the app knows about a live session."""

    session_id: int
    user_id: int
    factor_level: int
    user_name: str
    user_email: str | None
    last_sign_in_at: datetime | None
    absolute_expires_at: datetime
    remember: bool = False
    backup_codes_pending: bool = False
    factors: frozenset[str] = frozenset()
    """The kinds of second factor the account can give now (`fuzzydice.mfa.registry.usable_kinds`)."""
    first_factor: str | None = None
    """How this session's first step was proved (`password`, `wallet`, …)."""

    @property
    def has_second_factor(self) -> bool:
        """Whether the account can give a second factor now."""
        return bool(self.factors)

    @property
    def is_full(self) -> bool:
        """Both factors done."""
        return self.factor_level >= FULL


def create_session(
    session: Session,
    *,
    user_id: int,
    factor_level: int,
    remember: bool,
    now: datetime,
    settings: Settings,
    ip: str | None = None,
    user_agent: str | None = None,
    backup_codes_to_show: str | None = None,
    first_factor: str | None = None,
    second_factor: str | None = None,
) -> str:
    """Create a session row and return its token (only the hash is stored).

    A session that has only the first factor lasts `pending_second_step` at most.
    """
    idle, absolute = settings.session_lifetimes(remember)
    if factor_level < FULL:
        absolute = min(absolute, settings.pending_second_step)
    token = new_token()
    session.add(
        AuthSession(
            token_hash=token_hash(token),
            user_id=user_id,
            factor_level=factor_level,
            remember=remember,
            created_at=now,
            last_seen_at=now,
            idle_expires_at=min(now + idle, now + absolute),
            absolute_expires_at=now + absolute,
            ip=(ip or "")[:64] or None,
            user_agent=(user_agent or "")[:512] or None,
            backup_codes_to_show=backup_codes_to_show,
            first_factor=first_factor,
            second_factor=second_factor,
        )
    )
    return token


def is_live(row, now: datetime) -> bool:
    """Whether a session row has run out neither its idle nor its absolute time."""
    return now < row.idle_expires_at and now < row.absolute_expires_at


def live_row(session: Session, now: datetime, *, user_id: int, session_id: int | None):
    """The row of the live session `session_id` of `user_id`; None when there is none."""
    if session_id is None:
        return None
    table = AuthSession.__table__
    row = session.execute(sa.select(table).where(table.c.id == session_id, table.c.user_id == user_id)).first()
    return row if row is not None and is_live(row, now) else None


def lookup_session(
    session: Session, token: str | None, now: datetime, settings: Settings, *, touch: bool = True
) -> SessionInfo | None:
    """Return the live session for `token`; None when absent or expired (cleanup deletes expired rows).

    With `touch`, user activity slides the idle expiry; background checks pass False so an
    open tab alone does not keep a session alive.
    """
    if not token:
        return None
    row = session.exec(
        select(AuthSession, User, Identity.email, usable_kinds_column(User.id))
        .join(User, User.id == AuthSession.user_id)
        .outerjoin(Identity, sa.and_(Identity.user_id == User.id, identity_rows.of_kind(identity_rows.PASSWORD)))
        .where(AuthSession.token_hash == token_hash(token), may_sign_in())
    ).first()
    if row is None:
        return None
    auth, user, email, kinds = row
    if not is_live(auth, now):
        return None
    if touch and now - auth.last_seen_at >= settings.session_touch_interval:
        idle, _ = settings.session_lifetimes(auth.remember)
        table = AuthSession.__table__
        session.execute(
            sa.update(table)
            .where(table.c.id == auth.id)
            .values(last_seen_at=now, idle_expires_at=min(now + idle, auth.absolute_expires_at))
        )
        session.commit()
    factors = kinds_from(kinds)
    return SessionInfo(
        session_id=auth.id,
        user_id=user.id,
        factor_level=auth.factor_level,
        user_name=user.name,
        user_email=email,
        last_sign_in_at=user.previous_sign_in_at,
        absolute_expires_at=auth.absolute_expires_at,
        remember=auth.remember,
        backup_codes_pending=auth.backup_codes_to_show is not None,
        factors=factors,
        first_factor=auth.first_factor,
    )


def expired_before_second_step(session: Session, token: str | None, now: datetime) -> bool:
    """Whether `token` names a first-factor-only session that has run out (to say so, not just "sign in")."""
    if not token:
        return False
    table = AuthSession.__table__
    row = session.execute(
        sa.select(table.c.factor_level, table.c.idle_expires_at, table.c.absolute_expires_at).where(
            table.c.token_hash == token_hash(token)
        )
    ).first()
    if row is None:
        return False
    return row.factor_level < FULL and not is_live(row, now)


def revoke_session(session: Session, token: str | None):
    """Delete the session of `token`; its (id, user_id), or None when there was none. Not committed here."""
    if not token:
        return None
    table = AuthSession.__table__
    return session.execute(
        sa.delete(table).where(table.c.token_hash == token_hash(token)).returning(table.c.id, table.c.user_id)
    ).first()


def delete_expired_sessions(session: Session, now: datetime) -> int:
    """Remove sessions past either expiry; returns how many."""
    table = AuthSession.__table__
    count = session.execute(
        sa.delete(table).where(sa.or_(table.c.idle_expires_at <= now, table.c.absolute_expires_at <= now))
    ).rowcount
    session.commit()
    return count


def revoke_other_sessions(session: Session, user_id: int, *, keep_session_id: int | None = None) -> int:
    """End every session of `user_id` but `keep_session_id` (after a change of factors or identities; all of
    them when none is kept, e.g. an account being disabled).

    Not committed here: the change, the sessions it ends and its audit entry commit together.

    Sign-ins still on their way end too: unclaimed hand-off tickets (a ticket issued before
    the change would otherwise become a live session after it) and unsigned wallet challenges
    of the user (step-up and linking) and of every wallet of the user (sign-in).
    """
    table = AuthSession.__table__
    others = table.c.user_id == user_id
    if keep_session_id is not None:
        others = sa.and_(others, table.c.id != keep_session_id)
    count = session.execute(sa.delete(table).where(others)).rowcount
    tickets = ClaimTicket.__table__
    session.execute(sa.delete(tickets).where(tickets.c.user_id == user_id))
    challenges = SiweChallenge.__table__
    identities = Identity.__table__
    wallets = sa.select(identities.c.identifier).where(
        identities.c.user_id == user_id, identity_rows.of_kind(identity_rows.WALLET)
    )
    session.execute(sa.delete(challenges).where(sa.or_(challenges.c.user_id == user_id, challenges.c.address.in_(wallets))))
    return count
