"""Play sessions: start one on /launch, see it run, end it; the server ends it when its time is up.

One running session per account, whatever races: a running row carries the user's id
in `running_user_id`, a unique column cleared when the session ends (by the user, by a
start or end that finds it past its time, or by the periodic cleanup, `end_expired_plays`).
A session past `ends_at` counts as ended (reason `expired`) in every read, even before
the cleanup has written it. The spending limit is recorded and shown, not enforced on
chain. Results are `fuzzydice.outcome` values; the UI words them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from fuzzydice import audit, ratelimit
from fuzzydice.models import PlaySession as PlaySessionRow
from fuzzydice.outcome import Code, Failure, Ok, Outcome, fail
from fuzzydice.play.inputs import check_play_request, decimal_text
from fuzzydice.services import Services

ENDED_BY_USER = "user"
EXPIRED = "expired"

HISTORY_MAX = 100

_plays = PlaySessionRow.__table__


@dataclass(frozen=True)
class PlaySession:
    """A play session as its owner sees it (ended ones too)."""

    id: int
    chain_id: int
    minutes: int
    spending_limit: Decimal
    """In whole units of `symbol` (the chain's native coin)."""
    symbol: str
    started_at: datetime
    ends_at: datetime
    ended_at: datetime | None
    """None while it runs; for an expired one, its `ends_at`."""
    end_reason: str | None
    """None while it runs, then `user` or `expired`."""

    @property
    def running(self) -> bool:
        """Whether it was running when it was read."""
        return self.ended_at is None

    def time_left(self, now: datetime) -> timedelta:
        """Time until it ends (zero once it has ended)."""
        if not self.running:
            return timedelta(0)
        return max(self.ends_at - now, timedelta(0))


def start_play(
    services: Services,
    user_id: int,
    chain_id: object,
    minutes: object,
    spending_limit: object,
    *,
    origin: audit.Origin | None = None,
) -> Outcome[PlaySession]:
    """Start a play session: `Ok(PlaySession)`, INVALID_INPUT (`chain_id`, `minutes`, `spending_limit`), or
    PLAY_RUNNING (`detail`: the running session's id) when one of this account runs already.

    `chain_id` must name a chain in force, `minutes` one of `play_lengths`, `spending_limit`
    a non-negative amount of the chain's native coin (text or number) with at most its decimals
    and at most `play_spending_limit_max`.
    """
    checked = check_play_request(services.settings, chain_id=chain_id, minutes=minutes, spending_limit=spending_limit)
    if isinstance(checked, Failure):
        return checked
    now = services.clock.now()
    values = dict(
        user_id=user_id,
        running_user_id=user_id,
        chain_id=checked.network.chain_id,
        minutes=checked.minutes,
        spending_limit=decimal_text(checked.spending_limit),
        symbol=checked.network.native_symbol,
        started_at=now,
        ends_at=now + timedelta(minutes=checked.minutes),
    )
    with services.db() as session:
        wait = ratelimit.count_request(
            session, f"play_start:{user_id}", limit=services.settings.play_starts_per_window,
            window=services.settings.play_starts_window, now=now,
        )  # counted (and committed) before the row: racing starts cannot pass the limit
        if wait is not None:
            return fail(Code.RATE_LIMITED, retry_at=now + wait)
        _expire(session, now, user_id=user_id)  # a session past its time no longer holds the slot
        try:
            play_id = session.execute(sa.insert(_plays).values(**values).returning(_plays.c.id)).scalar_one()
        except IntegrityError:  # the account runs one already (another start may have just won)
            session.rollback()
            running = _running_row(session, user_id, now)
            return fail(Code.PLAY_RUNNING, detail=str(running.id) if running is not None else None)
        audit.record(
            session, audit.Action.PLAY_STARTED, now=now, user_id=user_id, origin=origin,
            details={
                "play_id": play_id, "chain_id": values["chain_id"], "minutes": values["minutes"],
                "spending_limit": values["spending_limit"], "symbol": values["symbol"],
            },
        )
        session.commit()
        row = session.execute(sa.select(_plays).where(_plays.c.id == play_id)).one()
    return Ok(_session_of(row, now))


def end_play(
    services: Services, user_id: int, play_id: object, *, origin: audit.Origin | None = None
) -> Outcome[PlaySession]:
    """End the account's play session `play_id`: `Ok(PlaySession)` as it is now, or PLAY_NOT_FOUND.

    Idempotent: a session that has already ended (or run out) is answered as it is. Only
    the owner's sessions are found; another account's id is PLAY_NOT_FOUND.
    """
    if isinstance(play_id, bool) or not isinstance(play_id, int):
        return fail(Code.PLAY_NOT_FOUND)
    now = services.clock.now()
    with services.db() as session:
        _expire(session, now, user_id=user_id)  # one past its time ended by itself, not by the user
        ended = session.execute(
            sa.update(_plays)
            .where(_plays.c.id == play_id, _plays.c.user_id == user_id, _plays.c.running_user_id.is_not(None))
            .values(running_user_id=None, ended_at=now, end_reason=ENDED_BY_USER)
            .returning(_plays.c.chain_id)
        ).first()
        if ended is not None:
            audit.record(
                session, audit.Action.PLAY_ENDED, now=now, user_id=user_id, origin=origin,
                details={"play_id": play_id, "chain_id": ended.chain_id, "reason": ENDED_BY_USER},
            )
        row = session.execute(
            sa.select(_plays).where(_plays.c.id == play_id, _plays.c.user_id == user_id)
        ).first()
        session.commit()
    if row is None:
        return fail(Code.PLAY_NOT_FOUND)
    return Ok(_session_of(row, now))


def current_play(services: Services, user_id: int) -> PlaySession | None:
    """The account's running play session, or None (one past its time has ended, cleaned up or not)."""
    now = services.clock.now()
    with services.db() as session:
        row = _running_row(session, user_id, now)
    return _session_of(row, now) if row is not None else None


def play_history(services: Services, user_id: int, limit: int = 20) -> list[PlaySession]:
    """The account's play sessions, newest first (the running one too), at most `limit` (1 to 100)."""
    limit = max(1, min(int(limit), HISTORY_MAX))
    now = services.clock.now()
    with services.db() as session:
        rows = session.execute(
            sa.select(_plays)
            .where(_plays.c.user_id == user_id)
            .order_by(_plays.c.started_at.desc(), _plays.c.id.desc())
            .limit(limit)
        ).all()
    return [_session_of(row, now) for row in rows]


def end_expired_plays(session: Session, now: datetime) -> int:
    """Mark every session past its time ended (`expired`) and free its slot; how many (committed). The cleanup's part."""
    count = _expire(session, now)
    session.commit()
    return count


# --- rows -------------------------------------------------------------------------------------


def _expire(session: Session, now: datetime, *, user_id: int | None = None) -> int:
    """End the running sessions past their time (of one account, or all), each with its audit entry. Not committed."""
    conditions = [_plays.c.running_user_id.is_not(None), _plays.c.ends_at <= now]
    if user_id is not None:
        conditions.append(_plays.c.running_user_id == user_id)
    expired = session.execute(
        sa.update(_plays)
        .where(*conditions)
        .values(running_user_id=None, ended_at=_plays.c.ends_at, end_reason=EXPIRED)
        .returning(_plays.c.id, _plays.c.user_id, _plays.c.chain_id)
    ).all()
    for row in expired:
        audit.record(
            session, audit.Action.PLAY_ENDED, now=now, user_id=row.user_id,
            details={"play_id": row.id, "chain_id": row.chain_id, "reason": EXPIRED},
        )
    return len(expired)


def _running_row(session: Session, user_id: int, now: datetime):
    return session.execute(
        sa.select(_plays).where(_plays.c.running_user_id == user_id, _plays.c.ends_at > now)
    ).first()


def _session_of(row, now: datetime) -> PlaySession:
    """The row as its owner sees it `now`: a running one past its time has ended (`expired`)."""
    ended_at, reason = row.ended_at, row.end_reason
    if ended_at is None and row.ends_at <= now:
        ended_at, reason = row.ends_at, EXPIRED
    return PlaySession(
        id=row.id,
        chain_id=row.chain_id,
        minutes=row.minutes,
        spending_limit=Decimal(row.spending_limit),
        symbol=row.symbol,
        started_at=row.started_at,
        ends_at=row.ends_at,
        ended_at=ended_at,
        end_reason=reason,
    )
