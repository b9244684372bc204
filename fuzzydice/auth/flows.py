"""Use cases of sign-up, sign-in and sign-out. Page states and the JSON API call these.

Every function here is synchronous and may hash a password: callers on an event
loop run them with ``asyncio.to_thread``. They return `fuzzydice.outcome` results
(codes, never words) and write their audit entries in the transaction of the change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from fuzzydice import audit, journey, ratelimit
from fuzzydice.audit import Action, Origin, Result
from fuzzydice.auth import identity, identity_rows, sessions, throttle
from fuzzydice.auth.account_status import may_sign_in
from fuzzydice.auth.passwords import HashingBusy, check_new_password, hashing_busy
from fuzzydice.auth.sessions import FIRST_FACTOR, SessionInfo
from fuzzydice.auth.tickets import IssuedTicket, issue_ticket, redeem_ticket
from fuzzydice.auth.tokens import token_hash
from fuzzydice.models import AuthSession, Identity, User
from fuzzydice.outcome import Code, Failure, Ok, Outcome, Problem, fail, invalid, invalid_fields
from fuzzydice.services import Services

PASSWORD = {"method": "password"}
"""The audit details of a password sign-in."""


@dataclass(frozen=True)
class SignedIn:
    """A first factor proved: who, and the journey's next step (enrol, or give a second factor)."""

    user_id: int
    step: journey.Step
    first_factor: str = "password"
    """How the first step was proved (the session records it: the second factor must differ)."""


@dataclass
class ClaimedSession:
    """A session created for a redeemed ticket."""

    token: str
    next_path: str
    remember: bool
    absolute_expires_at: datetime


def _field_problems(services: Services, *, name: str, email: str, password: str, phone: str) -> Failure | None:
    """INVALID_INPUT naming each bad field of a registration (a code with its parameters), or None."""
    _, phone_problem = identity.normalize_phone(phone)
    return invalid_fields(
        name=identity.name_problem(name),
        email=identity.email_problem(email),
        phone=phone_problem,
        password=check_new_password(password, services.settings, context=(name, email, email.split("@")[0])),
    )


def _email_taken() -> Failure:
    return invalid(email=Problem(Code.EMAIL_TAKEN.value))


def register(
    services: Services,
    *,
    name: str,
    email: str,
    password: str,
    phone: str = "",
    ip: str | None = None,
    user_agent: str | None = None,
) -> Outcome[SignedIn]:
    """Create a password account, signed in by its password: `Ok(SignedIn)` (the next step is
    enrolling a second factor), or a failure with its code.

    Failures: INVALID_INPUT (`fields`: `name_required`, `too_long`, `email_required`,
    `email_invalid`, `phone_*`, `too_short`, `password_weak`, `email_taken`), RATE_LIMITED
    (`retry_at`), BUSY (`retry_at`: every hashing slot is taken).

    Registrations from `ip` are limited (`register_ip_limit`): a refused one costs a
    counter, no hash and no row. `ip=None` is for trusted callers (tests, operator tools).
    """
    if (problems := _field_problems(services, name=name, email=email, password=password, phone=phone)) is not None:
        return problems
    phone_e164, _ = identity.normalize_phone(phone)
    email_norm = identity.normalize_email(email)
    assert email_norm is not None  # checked above
    settings, now = services.settings, services.clock.now()
    with services.db() as session:
        if ip is not None and (
            wait := ratelimit.count_request(
                session,
                ratelimit.per_ip("register", ip),
                limit=settings.register_ip_limit,
                window=settings.register_ip_window,
                now=now,
            )
        ):
            return fail(Code.RATE_LIMITED, retry_at=now + wait)
        taken = identity_rows.email_taken(session, email_norm)
        session.commit()  # end the read: hashing takes a while, the insert is a transaction of its own
        if taken:
            return _email_taken()
        try:
            password_hash = services.hasher.hash(password)
        except HashingBusy:
            return hashing_busy(services.settings, now)
        user = User(
            name=name.strip(),
            phone=phone_e164,
            phone_verified=False,
            created_at=now,
            last_sign_in_at=now,
        )
        session.add(user)
        try:
            session.flush()
            identity_rows.add_password(
                session, user_id=user.id, email=email.strip(), email_normalized=email_norm, password_hash=password_hash,
                now=now,
            )
            audit.record(
                session, Action.REGISTERED, now=now, user_id=user.id, origin=Origin(ip=ip, user_agent=user_agent),
                details=PASSWORD,
            )
            step = journey.after_first_factor(session, user_id=user.id, first_factor="password")
            session.commit()
        except IntegrityError:
            session.rollback()
            return _email_taken()
        return Ok(SignedIn(user_id=user.id, step=step))


def _throttled(session: Session, email_norm: str, wait: timedelta, now: datetime, origin: Origin) -> Failure:
    """Refused by the account's throttle: the owner's trail shows it (a cheap indexed lookup, known email or not)."""
    user_id = identity_rows.owner(session, identity_rows.password_of(email_norm))
    audit.record(session, Action.SIGN_IN, now=now, user_id=user_id, result=Result.THROTTLED, origin=origin, details=PASSWORD)
    session.commit()
    return fail(Code.RATE_LIMITED, retry_at=now + wait)


def sign_in_with_password(
    services: Services, *, email: str, password: str, ip: str, user_agent: str | None = None
) -> Outcome[SignedIn]:
    """Check email + password under the first-factor throttle (`fuzzydice.auth.throttle`).

    `Ok(SignedIn)`, or a failure: WRONG_CREDENTIALS, RATE_LIMITED (`retry_at`), BUSY
    (`retry_at`), ACCOUNT_DISABLED (only to someone who gave the right password).

    The attempt is reserved before hashing, so racing requests get no more bcrypt checks
    than the backoff allows; a refused attempt costs no bcrypt. Unknown email and wrong
    password give the same answer after the same work (one bcrypt check, one audit entry).
    With every hashing slot taken beyond `hash_wait` the answer is "busy" and nothing is
    counted. Requests over the per-IP flood limit leave no audit entry (a flood must not
    fill the table); the account throttle's refusals do. The UI runs it on the password
    pool (`fuzzydice.auth.password_pool`).
    """
    settings, now = services.settings, services.clock.now()
    origin = Origin(ip=ip, user_agent=user_agent)
    email_norm = identity.normalize_email(email) or (email or "").strip().lower()
    key = throttle.account_key(email_norm)
    with services.db() as session:
        # Early and cheap: a refused request costs a counter (an audit entry when the account's throttle refuses), no bcrypt.
        if wait := throttle.admit(session, ip, now, settings):
            return fail(Code.RATE_LIMITED, retry_at=now + wait)
        if wait := throttle.retry_after(session, key, ip, now, settings):
            return _throttled(session, email_norm, wait, now, origin)
        try:
            with services.hasher.slot():  # taken before the attempt is reserved: a busy answer counts nothing
                attempt = throttle.reserve_attempt(session, key, ip, now, settings)
                if attempt.wait is not None:
                    return _throttled(session, email_norm, attempt.wait, now, origin)
                found = session.exec(
                    select(User, may_sign_in(), Identity.password_hash)
                    .join(Identity, Identity.user_id == User.id)
                    .where(identity_rows.password_of(email_norm))
                ).first()
                session.commit()  # end the read before hashing; the attempt counts as a failure unless it succeeds
                user, allowed, password_hash = found if found is not None else (None, False, None)
                password_ok = services.hasher.verify(password or "", password_hash)
        except HashingBusy:
            return hashing_busy(services.settings, now)
        if not password_ok or user is None:
            audit.record(
                session, Action.SIGN_IN, now=now, user_id=user.id if user else None, result=Result.FAILED,
                origin=origin, details=PASSWORD,
            )
            session.commit()
            return fail(Code.WRONG_CREDENTIALS)
        if not allowed:  # the password is right: saying so reveals nothing its owner does not know
            audit.record(
                session, Action.SIGN_IN, now=now, user_id=user.id, result=Result.REFUSED, origin=origin, details=PASSWORD
            )
            session.commit()
            return fail(Code.ACCOUNT_DISABLED)
        throttle.record_success(session, key, ip, now, attempt)
        table = User.__table__
        session.execute(
            sa.update(table)
            .where(table.c.id == user.id)
            .values(previous_sign_in_at=user.last_sign_in_at, last_sign_in_at=now)
        )
        identity_rows.mark_used(session, identity_rows.password_of(email_norm), now)
        audit.record(session, Action.SIGN_IN, now=now, user_id=user.id, origin=origin, details=PASSWORD)
        step = journey.after_first_factor(session, user_id=user.id, first_factor="password")
        session.commit()
        return Ok(SignedIn(user_id=user.id, step=step))


def start_session_handoff(
    services: Services,
    *,
    user_id: int,
    factor_level: int,
    remember: bool,
    next_path: str,
    tab: str,
    replaces_token: str | None = None,
    first_factor: str | None = None,
    second_factor: str | None = None,
) -> IssuedTicket:
    """Issue the one-time ticket the tab (client token `tab`) redeems for its session cookie.

    `first_factor` / `second_factor`: how each step was proved (a promotion keeps the
    replaced session's first factor when it names none).
    """
    with services.db() as session:
        return issue_ticket(
            session,
            user_id=user_id,
            factor_level=factor_level,
            remember=remember,
            next_path=next_path,
            now=services.clock.now(),
            settings=services.settings,
            tab=tab,
            replaces_token=replaces_token,
            first_factor=first_factor,
            second_factor=second_factor,
        )


def claim_session(
    services: Services, *, ticket: str, bind: str | None, tab: str | None, ip: str | None, user_agent: str | None
) -> ClaimedSession | None:
    """Redeem a ticket for a new session; the session it replaces (privilege change) ends.

    Fresh backup codes the replaced session was to show move to the new one (they belong
    to this browser's sign-in, never to another session of the user).
    """
    now = services.clock.now()
    with services.db() as session:
        redeemed = redeem_ticket(session, ticket, bind, tab, now)
        if redeemed is None:
            return None
        codes_to_show, first_factor = None, redeemed.first_factor
        if redeemed.replaces_token_hash:
            table = AuthSession.__table__
            replaced = session.execute(
                sa.delete(table)
                .where(table.c.token_hash == redeemed.replaces_token_hash, table.c.user_id == redeemed.user_id)
                .returning(table.c.backup_codes_to_show, table.c.first_factor)
            ).first()
            if replaced is not None:
                codes_to_show, first_factor = replaced.backup_codes_to_show, first_factor or replaced.first_factor
        token = sessions.create_session(
            session,
            user_id=redeemed.user_id,
            factor_level=redeemed.factor_level,
            remember=redeemed.remember,
            now=now,
            settings=services.settings,
            ip=ip,
            user_agent=user_agent,
            backup_codes_to_show=codes_to_show,
            first_factor=first_factor,
            second_factor=redeemed.second_factor,
        )
        session.commit()
        row = session.exec(select(AuthSession).where(AuthSession.token_hash == token_hash(token))).one()
        return ClaimedSession(
            token=token,
            next_path=redeemed.next_path,
            remember=redeemed.remember,
            absolute_expires_at=row.absolute_expires_at,
        )


def current_session(services: Services, token: str | None, *, touch: bool = True) -> SessionInfo | None:
    """The live session behind a cookie token, or None (`touch`: count this as activity)."""
    with services.db() as session:
        return sessions.lookup_session(session, token, services.clock.now(), services.settings, touch=touch)


def pending_session_expired(services: Services, token: str | None) -> bool:
    """Whether `token` belonged to a sign-in that ran out before its second step."""
    with services.db() as session:
        return sessions.expired_before_second_step(session, token, services.clock.now())


def sign_out(
    services: Services,
    token: str | None,
    *,
    tab: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> bool:
    """End the session of `token` at once (and the unsigned wallet challenges of `tab`); True if there was one.

    The session's end and its SIGN_OUT entry commit together.
    """
    from fuzzydice.wallet.challenges import forget_tab_challenges

    if tab:
        forget_tab_challenges(services, tab)
    with services.db() as session:
        ended = sessions.revoke_session(session, token)
        if ended is None:
            return False
        audit.record(
            session,
            Action.SIGN_OUT,
            now=services.clock.now(),
            user_id=ended.user_id,
            origin=Origin(session_id=ended.id, ip=ip, user_agent=user_agent),
        )
        session.commit()
        return True


__all__ = [
    "FIRST_FACTOR",
    "ClaimedSession",
    "SignedIn",
    "claim_session",
    "current_session",
    "register",
    "sign_in_with_password",
    "sign_out",
    "start_session_handoff",
]
