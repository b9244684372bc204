"""A user's identities: a wallet and/or email + password. Every change needs a fresh second factor.

Either identity signs in to the same account with the same second factor; an
account always keeps at least one of them.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from fuzzydice.auth import identity
from fuzzydice.auth.passwords import BUSY, HashingBusy, check_new_password
from fuzzydice.auth.step_up import NOT_FRESH, end_other_sessions, is_fresh
from fuzzydice.models import User
from fuzzydice.services import Services
from fuzzydice.wallet import flows as wallet_flows

WALLET_TAKEN = "This wallet already belongs to another account."
EMAIL_TAKEN = "An account with this email already exists."
HAS_PASSWORD = "This account already has a password: change it with the current one."
LAST_IDENTITY = "This is the only way to sign in to this account: add another one before removing it."

_users = User.__table__


def link_wallet(services: Services, *, token: str, user_id: int, nonce: str, signature: str, binding: str) -> str:
    """Attach the wallet that signed a `link` message; returns an error message or ''."""
    if not is_fresh(services, token, user_id):
        return NOT_FRESH
    address, error = wallet_flows.verify_signature(
        services, nonce=nonce, signature=signature, binding=binding, purpose="link", user_id=user_id
    )
    if error:
        return error
    with services.db() as session:
        try:
            changed = session.execute(
                sa.update(_users).where(_users.c.id == user_id, _users.c.wallet_address.is_(None)).values(wallet_address=address)
            ).rowcount
            session.commit()
        except IntegrityError:
            return WALLET_TAKEN
    if not changed:
        return "This account already has a wallet: unlink it first."
    end_other_sessions(services, token=token, user_id=user_id)
    return ""


def add_password(services: Services, *, token: str, user_id: int, email: str, password: str) -> dict[str, str]:
    """Give a wallet account an email + password; returns problems per field (empty on success)."""
    if not is_fresh(services, token, user_id):
        return {"form": NOT_FRESH}
    errors: dict[str, str] = {}
    if problem := identity.email_problem(email):
        errors["email"] = problem
    # The same words as at registration: the whole email and its local part (a password equal to it is guessable).
    if problem := check_new_password(password, services.settings, context=(email, email.split("@")[0])):
        errors["password"] = problem.message
    if errors:
        return errors
    email_norm = identity.normalize_email(email)
    try:
        hashed = services.hasher.hash(password)
    except HashingBusy:
        return {"form": BUSY}
    with services.db() as session:
        if session.exec(select(User.id).where(User.email_normalized == email_norm, User.id != user_id)).first():
            return {"email": EMAIL_TAKEN}
        try:
            # Only where there is no password yet: replacing one here would change it without the current password.
            added = session.execute(
                sa.update(_users)
                .where(_users.c.id == user_id, _users.c.password_hash.is_(None))
                .values(email=email.strip(), email_normalized=email_norm, password_hash=hashed)
            ).rowcount
            session.commit()
        except IntegrityError:
            return {"email": EMAIL_TAKEN}
    if not added:
        return {"form": HAS_PASSWORD}
    end_other_sessions(services, token=token, user_id=user_id)
    return {}


def _unlink(services: Services, token: str, user_id: int, values: dict, keeps) -> str:
    if not is_fresh(services, token, user_id):
        return NOT_FRESH
    with services.db() as session:
        changed = session.execute(sa.update(_users).where(_users.c.id == user_id, keeps).values(**values)).rowcount
        session.commit()
    if not changed:
        return LAST_IDENTITY
    end_other_sessions(services, token=token, user_id=user_id)
    return ""


def unlink_wallet(services: Services, *, token: str, user_id: int) -> str:
    """Remove the wallet identity (the account keeps its password)."""
    return _unlink(services, token, user_id, {"wallet_address": None}, _users.c.password_hash.is_not(None))


def unlink_password(services: Services, *, token: str, user_id: int) -> str:
    """Remove the email + password identity (the account keeps its wallet)."""
    return _unlink(
        services, token, user_id, {"password_hash": None, "email": None, "email_normalized": None},
        _users.c.wallet_address.is_not(None),
    )


def overview(services: Services, *, token: str | None, user_id: int) -> dict:
    """What the security page shows: the identities, and whether sensitive changes are allowed now."""
    with services.db() as session:
        user = session.get(User, user_id)
    return {
        "wallet_address": (user.wallet_address or "") if user else "",
        "email": (user.email or "") if user else "",
        "has_password": bool(user and user.password_hash),
        "fresh": is_fresh(services, token, user_id),
    }
