"""A user's ways in: an email + password and any number of wallets (rows of `identities`).

Every change is one use case in one transaction: it checks that its session is
fresh itself (`require_fresh`, inside the transaction), makes the change, ends
the user's other sessions and sign-ins on their way, and writes its audit
entries; all of it commits together or not at all. Changes of one account run one
after the other (`identity_rows.lock_account`), so the account always keeps at
least one way in, even when two sessions unlink at the same moment.
Results are `fuzzydice.outcome` values; the UI words them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from fuzzydice import audit
from fuzzydice.auth import identity, identity_rows
from fuzzydice.auth.freshness import end_other_sessions, fresh_row, require_fresh
from fuzzydice.auth.identity_rows import PASSWORD, IdentityInfo
from fuzzydice.auth.passwords import HashingBusy, check_new_password, hashing_busy
from fuzzydice.auth.sessions import revoke_other_sessions
from fuzzydice.outcome import Code, Failure, Ok, Outcome, Problem, fail, invalid, invalid_fields
from fuzzydice.services import Services
from fuzzydice.wallet import flows as wallet_flows
from fuzzydice.wallet.addresses import AddressError, checksum_address


@dataclass(frozen=True)
class Overview:
    """What the security page shows: the ways in, and whether this session may change them now."""

    email: str
    has_password: bool
    wallets: tuple[str, ...]
    """EIP-55 addresses, in the order they were linked."""
    fresh: bool

    @property
    def can_unlink(self) -> bool:
        """Whether one way in may be removed: never the last one (the rule `_unlink` enforces)."""
        return may_remove_one(len(self.wallets) + int(self.has_password))


def may_remove_one(ways_in: int) -> bool:
    """An account keeps at least one way in."""
    return ways_in > 1


def list_identities(services: Services, *, user_id: int) -> list[IdentityInfo]:
    """Every way in of the account: its email + password first, then its wallets in the order they were linked."""
    with services.db() as session:
        return identity_rows.list_of(session, user_id)


def wallet_addresses(services: Services, user_id: int) -> list[str]:
    """The account's wallet addresses (EIP-55), in the order they were linked."""
    return [row.identifier for row in list_identities(services, user_id=user_id) if row.kind == identity_rows.WALLET]


def overview(services: Services, *, session_id: int | None, user_id: int) -> Overview:
    """The account's ways in, and whether the session `session_id` is fresh."""
    with services.db() as session:
        rows = identity_rows.list_of(session, user_id)
        fresh = require_fresh(session, services.clock.now(), user_id=user_id, session_id=session_id) is None
    email = next((row.email or "" for row in rows if row.kind == PASSWORD), "")
    return Overview(
        email=email,
        has_password=any(row.kind == PASSWORD for row in rows),
        wallets=tuple(row.identifier for row in rows if row.kind == identity_rows.WALLET),
        fresh=fresh,
    )


# --- one transaction per change ------------------------------------------------------------


def _begin(session: Session, now: datetime, *, user_id: int, session_id: int | None) -> Outcome:
    """Start a change: hold the account's identities, then check this session's freshness (same transaction).

    `Ok(row)` of the session making the change.
    """
    if not identity_rows.lock_account(session, user_id):
        return fail(Code.SESSION_ENDED)
    return fresh_row(session, now, user_id=user_id, session_id=session_id)


def _finish(
    session: Session,
    now: datetime,
    *,
    user_id: int,
    row,
    action: audit.Action,
    details: dict[str, str] | None = None,
    ended: int | None = None,
) -> None:
    """Write the change's entry, end the other sessions (unless the change did it already: `ended`), commit it all."""
    audit.record(session, action, now=now, user_id=user_id, origin=audit.Origin.of_row(row), details=details)
    end_other_sessions(session, now, user_id=user_id, row=row, ended=ended)
    session.commit()


def _precheck(services: Services, *, user_id: int, session_id: int | None) -> Failure | None:
    """Refuse early, before slow work (a signature's chain call, a bcrypt hash); the use case checks again."""
    with services.db() as session:
        return require_fresh(session, services.clock.now(), user_id=user_id, session_id=session_id)


# --- wallets ---------------------------------------------------------------------------------


def link_wallet(
    services: Services, *, session_id: int | None, user_id: int, nonce: str, signature: str, binding: str
) -> Outcome[str]:
    """Add the wallet that signed this user's `link` message; `Ok(address)`.

    Failures: SESSION_ENDED, NOT_FRESH, the signature's failures (`wallet.flows.verify_signature`),
    WALLET_TAKEN (another account's, or already this one's).
    """
    if (refused := _precheck(services, user_id=user_id, session_id=session_id)) is not None:
        return refused
    verified = wallet_flows.verify_signature(
        services, nonce=nonce, signature=signature, binding=binding, purpose="link", user_id=user_id
    )
    if not verified.ok:
        return verified
    address = verified.value
    now = services.clock.now()
    with services.db() as session:
        begun = _begin(session, now, user_id=user_id, session_id=session_id)
        if not begun.ok:
            return begun
        try:
            identity_rows.add_wallet(session, user_id=user_id, address=address, now=now)
        except IntegrityError:
            return fail(Code.WALLET_TAKEN)  # the transaction rolls back as the session closes
        # After the insert: an unsigned sign-in of this wallet, begun before it was linked, ends too.
        _finish(session, now, user_id=user_id, row=begun.value, action=audit.Action.WALLET_LINKED,
                details={"address": address})
    return Ok(address)


def unlink_wallet(services: Services, *, session_id: int | None, user_id: int, address: str) -> Outcome[None]:
    """Remove one wallet of the account, while another way in remains.

    Failures: SESSION_ENDED, NOT_FRESH, IDENTITY_NOT_FOUND (not a wallet of this account),
    LAST_IDENTITY.
    """
    try:
        address = checksum_address(address)
    except AddressError:
        return fail(Code.IDENTITY_NOT_FOUND)
    return _unlink(
        services, session_id=session_id, user_id=user_id, which=identity_rows.wallet_of(address),
        action=audit.Action.WALLET_UNLINKED, details={"address": address},
    )


# --- email + password ----------------------------------------------------------------------


def add_password(
    services: Services, *, session_id: int | None, user_id: int, email: str, password: str
) -> Outcome[None]:
    """Give an account without a password an email + password.

    Failures: SESSION_ENDED, NOT_FRESH, HAS_PASSWORD (changing one needs the current
    password: this is no way around it), INVALID_INPUT (`email_invalid`, `email_taken`,
    `password_weak`, with the checker's `message`), BUSY (`retry_at`).
    """
    if (refused := _precheck(services, user_id=user_id, session_id=session_id)) is not None:
        return refused
    # The same rules as at registration: the whole email and its local part make a guessable password.
    problems = invalid_fields(
        email=identity.email_problem(email),
        password=check_new_password(password, services.settings, context=(email, email.split("@")[0])),
    )
    if problems is not None:
        return problems
    email_norm = identity.normalize_email(email)
    assert email_norm is not None  # checked above
    with services.db() as session:  # refuse before hashing what will be refused anyway
        if identity_rows.exists(session, user_id, identity_rows.of_kind(PASSWORD)):
            return fail(Code.HAS_PASSWORD)
        if identity_rows.email_taken(session, email_norm):
            return invalid(email=Problem(Code.EMAIL_TAKEN.value))
    try:
        hashed = services.hasher.hash(password)
    except HashingBusy:
        return hashing_busy(services.settings, services.clock.now())
    now = services.clock.now()
    with services.db() as session:
        begun = _begin(session, now, user_id=user_id, session_id=session_id)
        if not begun.ok:
            return begun
        if identity_rows.exists(session, user_id, identity_rows.of_kind(PASSWORD)):
            return fail(Code.HAS_PASSWORD)  # another session of the account added one meanwhile
        try:
            identity_rows.add_password(
                session, user_id=user_id, email=email.strip(), email_normalized=email_norm, password_hash=hashed, now=now
            )
        except IntegrityError:
            return invalid(email=Problem(Code.EMAIL_TAKEN.value))
        _finish(session, now, user_id=user_id, row=begun.value, action=audit.Action.PASSWORD_ADDED)
    return Ok()


def unlink_password(services: Services, *, session_id: int | None, user_id: int) -> Outcome[None]:
    """Remove the email + password, while a wallet remains.

    Failures: SESSION_ENDED, NOT_FRESH, IDENTITY_NOT_FOUND (no password), LAST_IDENTITY.
    """
    return _unlink(
        services, session_id=session_id, user_id=user_id, which=identity_rows.of_kind(PASSWORD),
        action=audit.Action.PASSWORD_REMOVED,
    )


def _unlink(
    services: Services, *, session_id: int | None, user_id: int, which, action: audit.Action,
    details: dict[str, str] | None = None,
) -> Outcome[None]:
    now = services.clock.now()
    with services.db() as session:
        begun = _begin(session, now, user_id=user_id, session_id=session_id)
        if not begun.ok:
            return begun
        if not identity_rows.exists(session, user_id, which):
            return fail(Code.IDENTITY_NOT_FOUND)
        if not may_remove_one(identity_rows.count_of(session, user_id)):
            return fail(Code.LAST_IDENTITY)
        # Before the delete: unsigned sign-ins of the wallet being removed end with the others.
        ended = revoke_other_sessions(session, user_id, keep_session_id=begun.value.id)
        identity_rows.remove(session, user_id, which)
        _finish(session, now, user_id=user_id, row=begun.value, action=action, details=details, ended=ended)
    return Ok()
