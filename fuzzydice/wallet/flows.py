"""Use cases of wallet sign-in: build and store the SIWE message, verify the signature, find the account.

The server writes the whole message (domain, URI, chain, nonce, times) and keeps it;
the browser only asks the wallet to sign it. The challenge is used once, expires
with the message, and belongs to the connection (tab) that asked for it.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from fuzzydice import ratelimit
from fuzzydice.auth.account_status import DISABLED, may_sign_in
from fuzzydice.auth.tokens import token_hash
from fuzzydice.chain.eip1271 import ChainUnavailable
from fuzzydice.models import SiweChallenge, User
from fuzzydice.services import Services
from fuzzydice.siwe import SiweError, SiweMessage, new_nonce, verify_message
from fuzzydice.wallet.addresses import AddressError, checksum_address, short_address

SIGN_IN_FAILED = "The signature could not be verified. Please try again."
EXPIRED = "The sign-in request expired. Please try again."


@dataclass(frozen=True)
class Challenge:
    """A message for the wallet to sign, or why none was made."""

    message: str = ""
    nonce: str = ""
    error: str = ""


@dataclass(frozen=True)
class WalletSignIn:
    """The account a verified signature belongs to, or a message safe to show."""

    user_id: int | None = None
    address: str = ""
    created: bool = False
    has_second_factor: bool = False
    error: str = ""


def _iso(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _over_limit(services: Services, action: str, ip: str) -> timedelta | None:
    """Count one `action` of `ip`; how long to wait when over its limit, else None."""
    limit, window = {
        "siwe-challenge": (services.settings.siwe_challenge_ip_limit, services.settings.siwe_challenge_ip_window),
        "wallet-sign-in": (services.settings.wallet_sign_in_ip_limit, services.settings.wallet_sign_in_ip_window),
    }[action]
    with services.db() as session:
        return ratelimit.count_request(
            session, ratelimit.per_ip(action, ip), limit=limit, window=window, now=services.clock.now()
        )


def _too_many(wait: timedelta) -> str:
    return f"Too many wallet sign-in requests from your network. Try again in {ratelimit.wait_in_words(wait)}."


MAX_CHAIN_ID = 2**53 - 1
"""The largest chain id a wallet's JavaScript reports exactly; real ones are far smaller."""
NO_NETWORK = "Your wallet did not say which network it is on. Please try again."


def chain_problem(services: Services, chain_id: int) -> str | None:
    """Why a chain may not be used for signing in, or None."""
    if not 0 < chain_id <= MAX_CHAIN_ID:
        return NO_NETWORK
    allowed = services.settings.allowed_chains
    if chain_id in allowed:
        return None
    if not allowed:
        return "Wallet sign-in is not set up on this server yet."
    names = ", ".join(str(cid) for cid in sorted(allowed))
    return f"Your wallet is on network {chain_id}, which this site does not use. Switch to network {names} and try again."


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
) -> Challenge:
    """Build and store the EIP-4361 message for `address` on `chain_id`, for the page at `origin`.

    Messages made for `ip` are limited (`siwe_challenge_ip_limit`): a refused request costs a
    counter, no row. `ip=None` only for signed-in callers (link, step-up), whose rows belong to a user.
    """
    try:
        address = checksum_address(address)
    except AddressError as exc:
        return Challenge(error=f"The wallet gave an unusable address. {exc}")
    if problem := chain_problem(services, chain_id):
        return Challenge(error=problem)
    parts = urlsplit(origin or "")
    if not parts.netloc:
        return Challenge(error="This page's address is unknown; reload it and try again.")
    now = services.clock.now()
    if ip is not None and (wait := _over_limit(services, "siwe-challenge", ip)):
        return Challenge(error=_too_many(wait))
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
    return Challenge(message=text, nonce=message.nonce)


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


def verify_signature(
    services: Services, *, nonce: str, signature: str, binding: str, purpose: str = "sign_in", user_id: int | None = None
) -> tuple[str | None, str]:
    """Consume the challenge and verify its signature; returns (address, '') or (None, error).

    A challenge counts only for the purpose, tab and (for `link` and `reauth`) the user it was made for.
    """
    row = _consume(services, nonce or "")
    if (
        row is None
        or row.purpose != purpose
        or row.user_id != user_id
        or not hmac.compare_digest(row.binding_hash, token_hash(binding))
    ):
        return None, SIGN_IN_FAILED
    now = services.clock.now()
    if now >= row.expires_at:
        return None, EXPIRED
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
    except SiweError:
        return None, SIGN_IN_FAILED
    if address != row.address:
        return None, SIGN_IN_FAILED
    return address, ""


def complete_sign_in(
    services: Services, *, nonce: str, signature: str, binding: str, ip: str | None = None
) -> WalletSignIn:
    """Verify the signed message; load the account of the address or create it.

    An unknown address and a known one with a bad signature get the same answer.
    Completions from `ip` are limited (`wallet_sign_in_ip_limit`), checked before anything else.
    """
    if ip is not None and (wait := _over_limit(services, "wallet-sign-in", ip)):
        return WalletSignIn(error=_too_many(wait))
    address, error = verify_signature(services, nonce=nonce, signature=signature, binding=binding)
    if error:
        return WalletSignIn(error=error)
    now = services.clock.now()
    with services.db() as session:
        found = session.exec(select(User, may_sign_in()).where(User.wallet_address == address)).first()
        if found is not None and not found[1]:  # the signature is right: saying so reveals nothing
            return WalletSignIn(address=address, error=DISABLED)
        user = found[0] if found is not None else None
        created = False
        if user is None:
            user = User(name=short_address(address), wallet_address=address, created_at=now)
            session.add(user)
            try:
                session.commit()
                created = True
            except IntegrityError:  # the same wallet signed in twice at once
                session.rollback()
                user = session.exec(select(User).where(User.wallet_address == address)).one()
        table = User.__table__
        session.execute(
            sa.update(table)
            .where(table.c.id == user.id)
            .values(previous_sign_in_at=user.last_sign_in_at, last_sign_in_at=now)
        )
        session.commit()
        return WalletSignIn(
            user_id=user.id, address=address, created=created, has_second_factor=user.second_factor_at is not None
        )
