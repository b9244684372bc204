"""Use cases of sign-up, sign-in and sign-out. Page states and the JSON API call these.

Every function here is synchronous and may hash a password: callers on an event
loop run them with ``asyncio.to_thread``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from fuzzydice import ratelimit
from fuzzydice.auth import identity, sessions, throttle
from fuzzydice.auth.account_status import DISABLED, may_sign_in
from fuzzydice.auth.passwords import BUSY, HashingBusy, check_new_password
from fuzzydice.auth.sessions import FIRST_FACTOR, SessionInfo
from fuzzydice.auth.tickets import IssuedTicket, issue_ticket, redeem_ticket
from fuzzydice.auth.tokens import token_hash
from fuzzydice.models import AuthSession, User
from fuzzydice.services import Services

SIGN_IN_FAILED = "Email or password is incorrect."
EMAIL_TAKEN = "An account with this email already exists. Sign in instead."


@dataclass
class RegistrationResult:
    """The new user's id, or the problems per field."""

    user_id: int | None = None
    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class SignInResult:
    """The user's id on success, else a message safe to show."""

    user_id: int | None = None
    error: str | None = None
    retry_after_seconds: int | None = None
    has_second_factor: bool = False


@dataclass
class ClaimedSession:
    """A session created for a redeemed ticket."""

    token: str
    next_path: str
    remember: bool
    absolute_expires_at: datetime


def register(
    services: Services, *, name: str, email: str, password: str, phone: str = "", ip: str | None = None
) -> RegistrationResult:
    """Create a password account; field errors come back in plain words.

    Registrations from `ip` are limited (`register_ip_limit`): a refused one costs a
    counter, no hash and no row. `ip=None` is for trusted callers (tests, operator tools).
    """
    errors: dict[str, str] = {}
    if problem := identity.name_problem(name):
        errors["name"] = problem
    if problem := identity.email_problem(email):
        errors["email"] = problem
    phone_e164, phone_problem = identity.normalize_phone(phone)
    if phone_problem:
        errors["phone"] = phone_problem
    if problem := check_new_password(password, services.settings, context=(name, email, email.split("@")[0])):
        errors["password"] = problem.message
    if errors:
        return RegistrationResult(errors=errors)
    email_norm = identity.normalize_email(email)
    assert email_norm is not None  # checked above
    settings = services.settings
    with services.db() as session:
        if ip is not None and (
            wait := ratelimit.count_request(
                session,
                ratelimit.per_ip("register", ip),
                limit=settings.register_ip_limit,
                window=settings.register_ip_window,
                now=services.clock.now(),
            )
        ):
            return RegistrationResult(
                errors={"form": f"Too many new accounts from your network. Try again in {ratelimit.wait_in_words(wait)}."}
            )
        taken = session.exec(select(User.id).where(User.email_normalized == email_norm)).first() is not None
        session.commit()  # end the read: hashing takes a while, the insert is a transaction of its own
        if taken:
            return RegistrationResult(errors={"email": EMAIL_TAKEN})
        try:
            password_hash = services.hasher.hash(password)
        except HashingBusy:
            return RegistrationResult(errors={"form": BUSY})
        user = User(
            name=name.strip(),
            email=email.strip(),
            email_normalized=email_norm,
            phone=phone_e164,
            phone_verified=False,
            password_hash=password_hash,
            created_at=services.clock.now(),
            last_sign_in_at=services.clock.now(),
        )
        session.add(user)
        try:
            session.commit()
        except IntegrityError:
            return RegistrationResult(errors={"email": EMAIL_TAKEN})
        return RegistrationResult(user_id=user.id)


def _too_many(wait: timedelta) -> SignInResult:
    return SignInResult(
        error=f"Too many attempts. Try again in {ratelimit.wait_in_words(wait)}.",
        retry_after_seconds=max(1, math.ceil(wait.total_seconds())),
    )


def sign_in_with_password(services: Services, *, email: str, password: str, ip: str) -> SignInResult:
    """Check email + password under the first-factor throttle (`fuzzydice.auth.throttle`).

    The attempt is reserved before hashing, so racing requests get no more bcrypt checks
    than the backoff allows; a refused attempt costs no bcrypt. Unknown email and wrong
    password give the same message after the same work (one bcrypt check). With every
    hashing slot taken beyond `hash_wait` the answer is "busy" and nothing is counted.
    The UI runs it on the password pool (`fuzzydice.auth.password_pool`).
    """
    settings, now = services.settings, services.clock.now()
    email_norm = identity.normalize_email(email) or (email or "").strip().lower()
    key = throttle.account_key(email_norm)
    with services.db() as session:
        # Early and cheap: a refused request costs a counter, no lookup and no bcrypt.
        if (wait := throttle.admit(session, ip, now, settings) or throttle.retry_after(session, key, ip, now, settings)):
            return _too_many(wait)
        try:
            with services.hasher.slot():  # taken before the attempt is reserved: a busy answer counts nothing
                attempt = throttle.reserve_attempt(session, key, ip, now, settings)
                if attempt.wait is not None:
                    return _too_many(attempt.wait)
                found = session.exec(select(User, may_sign_in()).where(User.email_normalized == email_norm)).first()
                session.commit()  # end the read before hashing; the attempt counts as a failure unless it succeeds
                user, allowed = found if found is not None else (None, False)
                password_ok = services.hasher.verify(password or "", user.password_hash if user else None)
        except HashingBusy:
            return SignInResult(error=BUSY, retry_after_seconds=max(1, math.ceil(settings.hash_wait.total_seconds())))
        if not password_ok or user is None:
            return SignInResult(error=SIGN_IN_FAILED)
        if not allowed:  # the password is right: saying so reveals nothing its owner does not know
            return SignInResult(error=DISABLED)
        throttle.record_success(session, key, ip, now, attempt)
        table = User.__table__
        session.execute(
            sa.update(table)
            .where(table.c.id == user.id)
            .values(previous_sign_in_at=user.last_sign_in_at, last_sign_in_at=now)
        )
        session.commit()
        return SignInResult(user_id=user.id, has_second_factor=user.second_factor_at is not None)


def start_session_handoff(
    services: Services,
    *,
    user_id: int,
    factor_level: int,
    remember: bool,
    next_path: str,
    tab: str,
    replaces_token: str | None = None,
) -> IssuedTicket:
    """Issue the one-time ticket the tab (client token `tab`) redeems for its session cookie."""
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
        codes_to_show = None
        if redeemed.replaces_token_hash:
            table = AuthSession.__table__
            codes_to_show = session.execute(
                sa.delete(table)
                .where(table.c.token_hash == redeemed.replaces_token_hash, table.c.user_id == redeemed.user_id)
                .returning(table.c.backup_codes_to_show)
            ).scalar()
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


def sign_out(services: Services, token: str | None, *, tab: str | None = None) -> bool:
    """End the session of `token` at once (and the unsigned wallet challenges of `tab`); True if there was one."""
    from fuzzydice.wallet.challenges import forget_tab_challenges

    if tab:
        forget_tab_challenges(services, tab)
    with services.db() as session:
        return sessions.revoke_session(session, token)


__all__ = [
    "FIRST_FACTOR",
    "ClaimedSession",
    "RegistrationResult",
    "SignInResult",
    "claim_session",
    "current_session",
    "register",
    "sign_in_with_password",
    "sign_out",
    "start_session_handoff",
]
