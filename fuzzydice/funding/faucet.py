"""The demo faucet: test ETH and test tokens for a wallet of the account, once per address per chain per day.

Demo mode only, on test chains in force. "Per day" is a fixed period (`faucet_period`,
from 00:00 UTC): the row of `faucet_grants` for (chain, address, period) is inserted
*before* anything is sent, so however many requests race, one of them sends; the
account's grants of the period are numbered (`user_slot` below `faucet_grants_per_user`),
so many wallets of one account cannot drain the faucet either. Both limits are unique
constraints, the same on SQLite and PostgreSQL. When the chain does not take the
transfers, the row is deleted again: nothing is used up. A process that died while
sending never deletes its row: the cleanup (`release_abandoned`) deletes a reservation
left unsent for longer than any send can take (`reservation_lifetime`).

Synchronous (database and RPC): the UI calls `request_funds` through `asyncio.to_thread`.
Results are `fuzzydice.outcome` values; the UI words them.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from fuzzydice import audit
from fuzzydice.auth import identity_rows
from fuzzydice.chain.amounts import to_base_units, to_decimal
from fuzzydice.chain.faucet_sender import SEND_TRIES, AnvilFaucetSender, FaucetSender, FaucetSendError, Payment
from fuzzydice.chain.networks import Network
from fuzzydice.models import FaucetGrant as FaucetGrantRow
from fuzzydice.outcome import Code, Failure, Ok, Outcome, Problem, fail, invalid_fields
from fuzzydice.ratelimit import window_start
from fuzzydice.services import Services
from fuzzydice.settings import Settings
from fuzzydice.wallet.addresses import AddressError, checksum_address

log = logging.getLogger(__name__)

_grants = FaucetGrantRow.__table__


@dataclass(frozen=True)
class SentFunds:
    """One transfer of a grant."""

    symbol: str
    amount: Decimal
    """In whole coins or tokens."""
    token: str | None
    """The ERC-20's address; None for the native coin."""
    tx_hash: str


@dataclass(frozen=True)
class FaucetGrant:
    """Test funds sent to a wallet: what, when, and when this address may ask again on this chain."""

    id: int
    chain_id: int
    address: str
    sent_at: datetime
    next_at: datetime
    transfers: tuple[SentFunds, ...]


def faucet_networks(settings: Settings) -> tuple[Network, ...]:
    """The chains the faucet serves: the test chains in force, in demo mode only (else none)."""
    if not settings.is_demo:
        return ()
    return tuple(network for network in settings.active_networks if network.testnet)


def period_start(now: datetime, settings: Settings) -> datetime:
    """The start of the faucet period holding `now` (00:00 UTC for a day)."""
    return window_start(now, settings.faucet_period)


def planned_payments(settings: Settings, network: Network) -> list[Payment]:
    """What one grant sends on `network`: the native coin, then each of its tokens."""
    native = Payment(network.native_symbol, to_base_units(settings.faucet_native_amount, network.native_decimals))
    tokens = [
        Payment(token.symbol, to_base_units(settings.faucet_token_amount, token.decimals), token.address)
        for token in network.tokens
    ]
    return [native, *tokens]


def request_funds(
    services: Services,
    user_id: int,
    address: str,
    chain_id: int,
    *,
    origin: audit.Origin | None = None,
    sender: FaucetSender | None = None,
) -> Outcome[FaucetGrant]:
    """Send the account's wallet `address` test funds on `chain_id`: `Ok(FaucetGrant)` or a `Failure`.

    Failures: FAUCET_OFF (production mode, or not a test chain), INVALID_INPUT (`address`,
    `chain_id`: a chain not in force), WRONG_WALLET (not a wallet of this account),
    FAUCET_USED / FAUCET_LIMIT (`retry_at`: when the next period starts), FAUCET_SEND_FAILED
    (nothing was used up). `sender` replaces the anvil sender (tests, other dev chains).
    """
    settings = services.settings
    if not settings.is_demo:
        return fail(Code.FAUCET_OFF)
    checked = _checked_input(settings, address, chain_id)
    if isinstance(checked, Failure):
        return checked
    address, network = checked
    if not network.testnet:
        return fail(Code.FAUCET_OFF)

    reserved = _reserve(services, user_id=user_id, address=address, chain_id=network.chain_id)
    if isinstance(reserved, Failure):
        return reserved
    grant_id, next_at = reserved
    payments = planned_payments(settings, network)
    sender = sender or AnvilFaucetSender(rpc_timeout=settings.chain_rpc_timeout.total_seconds())
    try:
        hashes = sender.send(network, address, payments, timeout=settings.faucet_send_timeout.total_seconds())
    except FaucetSendError as error:
        log.warning("faucet grant %s not sent: %s", grant_id, error)
        _release(services, grant_id, user_id=user_id, address=address, chain_id=network.chain_id, origin=origin)
        return fail(Code.FAUCET_SEND_FAILED)
    except BaseException:  # a bug or an interrupt: give the reservation back, then let it surface
        _release(services, grant_id, user_id=user_id, address=address, chain_id=network.chain_id, origin=origin)
        raise
    sent = tuple(
        SentFunds(p.symbol, _whole_units(p, network), p.token, tx_hash) for p, tx_hash in zip(payments, hashes)
    )
    sent_at = _complete(services, grant_id, sent, user_id=user_id, address=address, chain_id=network.chain_id,
                        origin=origin)
    return Ok(FaucetGrant(grant_id, network.chain_id, address, sent_at, next_at, sent))


def next_available(services: Services, user_id: int, address: str, chain_id: int) -> datetime | None:
    """When `address` may next ask the faucet on `chain_id` (None: now), counting the account's limit too.

    Reads only (a hint for the page; `request_funds` decides). None too for an address that
    is not an EIP-55-able address.
    """
    try:
        address = checksum_address(address)
    except AddressError:
        return None
    settings = services.settings
    start = period_start(services.clock.now(), settings)
    with services.db() as session:
        used = _address_served(session, chain_id, address, start) or (
            _grants_of(session, user_id, start) >= settings.faucet_grants_per_user
        )
    return start + settings.faucet_period if used else None


def reservation_lifetime(settings: Settings) -> timedelta:
    """How long a reservation may stay unsent before it counts as abandoned (its process died mid-send).

    Twice the longest a send can take: the send lock and the receipts each wait at most
    `faucet_send_timeout`; the chain id, the impersonation and each try of each transfer
    (`SEND_TRIES`) at most `chain_rpc_timeout`.
    """
    payments = 1 + max((len(network.tokens) for network in faucet_networks(settings)), default=0)
    longest = 2 * settings.faucet_send_timeout + (2 + SEND_TRIES * payments) * settings.chain_rpc_timeout
    return 2 * longest


def release_abandoned(session: Session, now: datetime, settings: Settings) -> int:
    """Delete the reservations left unsent past `reservation_lifetime` (a crash mid-send); how many (committed).

    The cleanup's part: the address (and the account's slot) may ask again the same day. Each
    release is in the account's audit trail, as a failed request.
    """
    abandoned = session.execute(
        sa.delete(_grants)
        .where(_grants.c.sent_at.is_(None), _grants.c.requested_at < now - reservation_lifetime(settings))
        .returning(_grants.c.user_id, _grants.c.chain_id, _grants.c.address)
    ).all()
    for row in abandoned:
        audit.record(
            session, audit.Action.FUNDS_REQUESTED, now=now, user_id=row.user_id, result=audit.Result.FAILED,
            details={"chain_id": row.chain_id, "address": row.address, "abandoned": True},
        )
    session.commit()
    return len(abandoned)


# --- steps ----------------------------------------------------------------------------------


def _checked_input(settings: Settings, address: str, chain_id: int) -> tuple[str, Network] | Failure:
    """The EIP-55 address and the network in force, or INVALID_INPUT naming what is wrong."""
    address_problem = chain_problem = None
    checksummed = ""
    try:
        checksummed = checksum_address(address if isinstance(address, str) else "")
    except AddressError as error:
        address_problem = Problem(error.code)
    network = settings.network(chain_id) if isinstance(chain_id, int) and not isinstance(chain_id, bool) else None
    if network is None:
        chain_problem = Problem("chain_unknown")
    problems = invalid_fields(address=address_problem, chain_id=chain_problem)
    if problems is not None:
        return problems
    assert network is not None
    return checksummed, network


def _reserve(services: Services, *, user_id: int, address: str, chain_id: int) -> tuple[int, datetime] | Failure:
    """Insert the grant's row (committed) before anything is sent: (its id, when the address may ask again).

    Each insert is its own transaction: the unique constraints decide between racing
    requests (PostgreSQL makes the second wait for the first's commit).
    """
    settings = services.settings
    now = services.clock.now()
    start = period_start(now, settings)
    next_at = start + settings.faucet_period
    with services.db() as session:
        if not identity_rows.exists(session, user_id, identity_rows.wallet_of(address)):
            return fail(Code.WRONG_WALLET)
        taken = set(
            session.execute(
                sa.select(_grants.c.user_slot).where(_grants.c.user_id == user_id, _grants.c.period_start == start)
            ).scalars()
        )
        for slot in (slot for slot in range(settings.faucet_grants_per_user) if slot not in taken):
            if _address_served(session, chain_id, address, start):
                break
            try:
                grant_id = session.execute(
                    sa.insert(_grants)
                    .values(
                        user_id=user_id, chain_id=chain_id, address=address, period_start=start, user_slot=slot,
                        requested_at=now,
                    )
                    .returning(_grants.c.id)
                ).scalar_one()
                session.commit()
                return grant_id, next_at
            except IntegrityError:  # this address was served, or this slot taken, just now
                session.rollback()
        if _address_served(session, chain_id, address, start):
            return fail(Code.FAUCET_USED, retry_at=next_at)
        return fail(Code.FAUCET_LIMIT, retry_at=next_at)


def _release(
    services: Services, grant_id: int, *, user_id: int, address: str, chain_id: int, origin: audit.Origin | None
) -> None:
    """Give the reservation back (the funds were not sent) and say so in the audit trail."""
    with services.db() as session:
        session.execute(sa.delete(_grants).where(_grants.c.id == grant_id))
        audit.record(
            session, audit.Action.FUNDS_REQUESTED, now=services.clock.now(), user_id=user_id,
            result=audit.Result.FAILED, origin=origin, details={"chain_id": chain_id, "address": address},
        )
        session.commit()


def _complete(
    services: Services, grant_id: int, sent: tuple[SentFunds, ...], *, user_id: int, address: str, chain_id: int,
    origin: audit.Origin | None,
) -> datetime:
    """Record the mined transfers of the grant and its audit entry; when it was done."""
    now = services.clock.now()
    transfers = json.dumps(
        [{"symbol": s.symbol, "amount": str(s.amount), "token": s.token, "tx": s.tx_hash} for s in sent]
    )
    with services.db() as session:
        session.execute(sa.update(_grants).where(_grants.c.id == grant_id).values(sent_at=now, transfers=transfers))
        audit.record(
            session, audit.Action.FUNDS_REQUESTED, now=now, user_id=user_id, origin=origin,
            details={"chain_id": chain_id, "address": address, "transfers": len(sent)},
        )
        session.commit()
    return now


def _address_served(session: Session, chain_id: int, address: str, start: datetime) -> bool:
    query = sa.select(_grants.c.id).where(
        _grants.c.chain_id == chain_id, _grants.c.address == address, _grants.c.period_start == start
    )
    return session.execute(query.limit(1)).first() is not None


def _grants_of(session: Session, user_id: int, start: datetime) -> int:
    query = sa.select(sa.func.count()).where(_grants.c.user_id == user_id, _grants.c.period_start == start)
    return session.execute(query).scalar_one()


def _whole_units(payment: Payment, network: Network) -> Decimal:
    decimals = network.native_decimals if payment.token is None else network.token(payment.token).decimals
    return to_decimal(payment.amount, decimals)
