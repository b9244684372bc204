"""Use cases of wallet sign-in: build and store the SIWE message, verify the signature, find the account.

The server writes the whole message (domain, URI, chain, nonce, times) and keeps it;
the browser only asks the wallet to sign it. The challenge is used once, expires
with the message, and belongs to the connection (tab) that asked for it. An account
may hold several wallets (`identities`): any of them signs in to it. Results are
`fuzzydice.outcome` values (codes, never words); sign-ins leave audit entries.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from fuzzydice import audit, journey, ratelimit
from fuzzydice.auth import identity_rows
from fuzzydice.auth.account_status import may_sign_in
from fuzzydice.auth.tokens import token_hash
from fuzzydice.chain.eip1271 import ChainUnavailable
from fuzzydice.mfa.registry import usable_kinds
from fuzzydice.models import Identity, SiweChallenge, User
from fuzzydice.outcome import Code, Failure, Ok, Outcome, Problem, fail, invalid
from fuzzydice.services import Services
from fuzzydice.siwe import SiweError, SiweMessage, new_nonce, verify_message
from fuzzydice.siwe.errors import SiweVerificationError
from fuzzydice.wallet.addresses import AddressError, checksum_address, short_address

WALLET = {"method": "wallet"}
"""The audit details of a wallet sign-in."""


@dataclass(frozen=True)
class Challenge:
    """A message for the wallet to sign, and its nonce (the key the signature comes back with)."""

    message: str
    nonce: str


@dataclass(frozen=True)
class WalletSignIn:
    """The account a verified signature signed in to."""

    user_id: int
    address: str
    step: journey.Step
    created: bool = False
    first_factor: str = "wallet"


def _iso(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _count(services: Services, action: str, ip: str, now: datetime) -> tuple[timedelta | None, bool]:
    """Count one `action` of `ip`: (how long to wait when over its limit, else None; whether it is the first refusal)."""
    limit, window = {
        "siwe-challenge": (services.settings.siwe_challenge_ip_limit, services.settings.siwe_challenge_ip_window),
        "wallet-sign-in": (services.settings.wallet_sign_in_ip_limit, services.settings.wallet_sign_in_ip_window),
    }[action]
    with services.db() as session:
        return ratelimit.count_refusal(session, ratelimit.per_ip(action, ip), limit=limit, window=window, now=now)


MAX_CHAIN_ID = 2**53 - 1
"""The largest chain id a wallet's JavaScript reports exactly; real ones are far smaller."""


def chain_problem(services: Services, chain_id: int) -> Failure | None:
    """Why a chain may not be used for signing in, or None.

    INVALID_INPUT (`chain_id`: `no_network`) for an id no chain has; CHAIN_NOT_SUPPORTED
    with `detail` = the chain id otherwise (the words name the allowed chains from settings).
    """
    if not 0 < chain_id <= MAX_CHAIN_ID:
        return invalid(chain_id=Problem("no_network"))
    if chain_id in services.settings.allowed_chains:
        return None
    return fail(Code.CHAIN_NOT_SUPPORTED, detail=str(chain_id))


def begin_sign_in(
    services: Services,
    *,
    address: str,
    chain_id: int,
    origin: str,
    binding: str,
    purpose: str = "sign_in",
    user_id: int | None = None,
    ip: str | None = None,
) -> Outcome[Challenge]:
    """Build and store the EIP-4361 message for `address` on `chain_id`, for the page at `origin`.

    Failures: INVALID_INPUT (`address`: `address_invalid` / `address_checksum`; `chain_id`:
    `no_network`; `origin`: `origin_unknown`), CHAIN_NOT_SUPPORTED, RATE_LIMITED (`retry_at`).

    Messages made for `ip` are limited (`siwe_challenge_ip_limit`): a refused request costs a
    counter, no row. `ip=None` only for signed-in callers (link, step-up), whose rows belong to a user.
    """
    try:
        address = checksum_address(address)
    except AddressError as exc:
        return invalid(address=Problem(exc.code))
    if (problem := chain_problem(services, chain_id)) is not None:
        return problem
    parts = urlsplit(origin or "")
    if not parts.netloc:
        return invalid(origin=Problem("origin_unknown"))
    now = services.clock.now()
    if ip is not None and (wait := _count(services, "siwe-challenge", ip, now)[0]):
        return fail(Code.RATE_LIMITED, retry_at=now + wait)
    expires = now + services.settings.siwe_message_ttl
    message = SiweMessage(
        domain=parts.netloc,
        address=address,
        statement=services.settings.siwe_statement,
        uri=f"{parts.scheme}://{parts.netloc}/login",
        version="1",
        chain_id=chain_id,
        nonce=new_nonce(),
        issued_at=_iso(now),
        expiration_time=_iso(expires),
    )
    text = message.to_text()
    with services.db() as session:
        session.add(
            SiweChallenge(
                nonce=message.nonce,
                message=text,
                address=address,
                chain_id=chain_id,
                purpose=purpose,
                user_id=user_id,
                binding_hash=token_hash(binding),
                created_at=now,
                expires_at=expires,
            )
        )
        session.commit()
    return Ok(Challenge(message=text, nonce=message.nonce))


def _consume(services: Services, nonce: str):
    table = SiweChallenge.__table__
    with services.db() as session:
        row = session.execute(
            sa.delete(table)
            .where(table.c.nonce == nonce)
            .returning(
                table.c.message, table.c.address, table.c.chain_id, table.c.purpose,
                table.c.user_id, table.c.binding_hash, table.c.expires_at,
            )
        ).first()
        session.commit()
    return row


def _contract_check(services: Services):
    def check(message: SiweMessage, digest: bytes, signature: bytes) -> bool:
        chain = services.chain
        try:
            return bool(chain.code_at(message.chain_id, message.address)) and chain.is_valid_signature(
                message.chain_id, message.address, digest, signature
            )
        except ChainUnavailable:  # an unreachable (or unconfigured) chain proves nothing: fail closed
            return False

    return check


def _verify(
    services: Services, *, nonce: str, signature: str, binding: str, purpose: str, user_id: int | None
) -> tuple[str | None, Outcome[str]]:
    """(the address the challenge was made for, if any; the outcome of `verify_signature`)."""
    row = _consume(services, nonce or "")
    if (
        row is None
        or row.purpose != purpose
        or row.user_id != user_id
        or not hmac.compare_digest(row.binding_hash, token_hash(binding))
    ):
        return (row.address if row is not None else None), fail(Code.CHALLENGE_UNKNOWN)
    now = services.clock.now()
    if now >= row.expires_at:
        return row.address, fail(Code.CHALLENGE_UNKNOWN, detail="expired")
    try:
        message = SiweMessage.parse(row.message)
        parts = urlsplit(message.uri)
        address = verify_message(
            message,
            signature,
            domain=message.domain,
            nonce=nonce,
            now=now,
            uri=f"{parts.scheme}://{parts.netloc}/login",
            chain_ids=services.settings.allowed_chains.keys(),
            contract_check=_contract_check(services),
        )
    except ChainUnavailable:
        return row.address, fail(Code.CHAIN_UNAVAILABLE)
    except SiweVerificationError as exc:
        return row.address, fail(Code.SIGNATURE_INVALID, detail=exc.reason)
    except SiweError:  # an unparsable stored message or signature
        return row.address, fail(Code.SIGNATURE_INVALID, detail="malformed_signature")
    if address != row.address:
        return row.address, fail(Code.SIGNATURE_INVALID, detail="invalid_signature")
    return row.address, Ok(address)


def verify_signature(
    services: Services, *, nonce: str, signature: str, binding: str, purpose: str = "sign_in", user_id: int | None = None
) -> Outcome[str]:
    """Consume the challenge and verify its signature; `Ok(address)` (EIP-55).

    Failures: CHALLENGE_UNKNOWN (not issued, used, made for another purpose, tab or user;
    `detail` "expired" when it ran out), SIGNATURE_INVALID (`detail`: the SIWE check that
    failed, `fuzzydice.siwe.errors`), CHAIN_UNAVAILABLE (a contract wallet's chain did not
    answer). A challenge counts only for the purpose, tab and (for `link` and `reauth`)
    the user it was made for.
    """
    return _verify(services, nonce=nonce, signature=signature, binding=binding, purpose=purpose, user_id=user_id)[1]


def _account_of(session: Session, address: str):
    """(user, may sign in) of the account holding the wallet, or None."""
    return session.exec(
        select(User, may_sign_in()).join(Identity, Identity.user_id == User.id).where(identity_rows.wallet_of(address))
    ).first()


@dataclass(frozen=True)
class WalletAccount:
    """What `/api/check` may say of a wallet: whether an account holds it, and whether it has a second factor."""

    exists: bool
    second_factor: bool = False


CHECK_WINDOW = timedelta(minutes=1)


def check_wallet(services: Services, *, address: str, ip: str) -> Outcome[WalletAccount]:
    """Whether a (checksummed) wallet has an account; limited per IP (`check_api_per_minute`): RATE_LIMITED."""
    now = services.clock.now()
    with services.db() as session:
        key = f"check:{ip}"
        if not ratelimit.allow(session, key, limit=services.settings.check_api_per_minute, window=CHECK_WINDOW, now=now):
            return fail(Code.RATE_LIMITED, retry_at=now + ratelimit.time_left(now, CHECK_WINDOW))
        user_id = identity_rows.owner(session, identity_rows.wallet_of(address))
        if user_id is None:
            return Ok(WalletAccount(exists=False))
        return Ok(WalletAccount(exists=True, second_factor=bool(usable_kinds(session, user_id))))


def complete_sign_in(
    services: Services,
    *,
    nonce: str,
    signature: str,
    binding: str,
    ip: str | None = None,
    user_agent: str | None = None,
) -> Outcome[WalletSignIn]:
    """Verify the signed message; load the account that holds the wallet, or create one.

    Failures: RATE_LIMITED (`retry_at`), the failures of `verify_signature`, ACCOUNT_DISABLED
    (only to the wallet's owner: the signature is right). An unknown address and a known one
    with a bad signature get the same answer. Completions from `ip` are limited
    (`wallet_sign_in_ip_limit`), checked before anything else. Each attempt leaves a
    `sign_in` audit entry (details `method: wallet`), under the account when the wallet
    has one; of a flood from one network, only its first refusal per window does.
    """
    now = services.clock.now()
    origin = audit.Origin(ip=ip, user_agent=user_agent)
    if ip is not None:
        wait, first_refusal = _count(services, "wallet-sign-in", ip, now)
        if wait is not None:
            if first_refusal:
                with services.db() as session:
                    audit.record(
                        session, audit.Action.SIGN_IN, now=now, user_id=None, result=audit.Result.THROTTLED,
                        origin=origin, details=WALLET,
                    )
                    session.commit()
            return fail(Code.RATE_LIMITED, retry_at=now + wait)
    claimed, verified = _verify(services, nonce=nonce, signature=signature, binding=binding, purpose="sign_in", user_id=None)
    if not verified.ok:
        with services.db() as session:
            owner = identity_rows.owner(session, identity_rows.wallet_of(claimed)) if claimed else None
            audit.record(
                session, audit.Action.SIGN_IN, now=now, user_id=owner, result=audit.Result.FAILED, origin=origin,
                details={**WALLET, "reason": verified.code.value},
            )
            session.commit()
        return verified
    address = verified.value
    used = {**WALLET, "address": address}
    with services.db() as session:
        found = _account_of(session, address)
        if found is not None and not found[1]:  # the signature is right: saying so reveals nothing
            audit.record(
                session, audit.Action.SIGN_IN, now=now, user_id=found[0].id, result=audit.Result.REFUSED,
                origin=origin, details={**used, "reason": Code.ACCOUNT_DISABLED.value},
            )
            session.commit()
            return fail(Code.ACCOUNT_DISABLED)
        user = found[0] if found is not None else None
        created = False
        if user is None:
            try:
                user = User(name=short_address(address), created_at=now)
                session.add(user)
                session.flush()
                identity_rows.add_wallet(session, user_id=user.id, address=address, now=now)
                audit.record(session, audit.Action.REGISTERED, now=now, user_id=user.id, origin=origin, details=used)
                created = True
            except IntegrityError:  # the same wallet signed in twice at once: the other request made the account
                session.rollback()
                user = _account_of(session, address)[0]
        table = User.__table__
        session.execute(
            sa.update(table)
            .where(table.c.id == user.id)
            .values(previous_sign_in_at=user.last_sign_in_at, last_sign_in_at=now)
        )
        identity_rows.mark_used(session, identity_rows.wallet_of(address), now)
        audit.record(session, audit.Action.SIGN_IN, now=now, user_id=user.id, origin=origin, details=used)
        step = journey.after_first_factor(session, user_id=user.id, first_factor="wallet")
        session.commit()
        return Ok(WalletSignIn(user_id=user.id, address=address, step=step, created=created))
