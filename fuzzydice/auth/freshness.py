"""Freshness: a full session that gave a second factor again within `step_up_lifetime`.

It belongs to the session's id (not to the cookie), so anything bound to that
session (a page, a later API token) steps up the same way. Every flow that
changes a factor or an identity calls `require_fresh` itself, inside its own
transaction, and fails with `not_fresh`: no public function of the core changes
a factor without it.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from fuzzydice.auth.sessions import FULL, live_row, revoke_other_sessions
from fuzzydice.outcome import Code, Failure, Ok, Outcome, fail


def full_row(session: Session, now: datetime, *, user_id: int, session_id: int | None):
    """The row of this live session of `user_id` when it has both factors, else None."""
    if session_id is None:
        return None
    row = live_row(session, now, user_id=user_id, session_id=session_id)
    return row if row is not None and row.factor_level >= FULL else None


def is_fresh_row(row, now: datetime) -> bool:
    """Whether a session row gave a second factor again recently enough."""
    return row is not None and row.fresh_until is not None and row.fresh_until > now


def fresh_row(session: Session, now: datetime, *, user_id: int, session_id: int | None) -> Outcome:
    """`Ok(row)` of this live, full and fresh session of `user_id`; else `session_ended` or `not_fresh`."""
    row = full_row(session, now, user_id=user_id, session_id=session_id)
    if row is None:
        return fail(Code.SESSION_ENDED)
    if not is_fresh_row(row, now):
        return fail(Code.NOT_FRESH)
    return Ok(row)


def require_fresh(session: Session, now: datetime, *, user_id: int, session_id: int | None) -> Failure | None:
    """None when this live, full session of `user_id` is fresh; else `session_ended` or `not_fresh`."""
    outcome = fresh_row(session, now, user_id=user_id, session_id=session_id)
    return None if outcome.ok else outcome


def end_other_sessions(session: Session, now: datetime, *, user_id: int, row, ended: int | None = None) -> int:
    """After a change made in the session of `row`: end the user's other sessions (unless the change
    did already: `ended`) and record how many, in the caller's transaction. Returns the count."""
    from fuzzydice import audit

    if ended is None:
        ended = revoke_other_sessions(session, user_id, keep_session_id=row.id)
    if ended:
        audit.record(
            session, audit.Action.SESSIONS_ENDED, now=now, user_id=user_id, origin=audit.Origin.of_row(row),
            details={"count": ended},
        )
    return ended
