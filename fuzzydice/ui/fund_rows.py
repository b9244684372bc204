"""The fund card's rows, built from the account's wallets, the settings and the faucet (no Reflex).

`fund_view` decides what `fuzzydice.ui.funding.fund_card` shows (see its docstring): faucet
buttons, payment requests with QR codes, or how to get a wallet. The words a person reads are
made here, so the card only places them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from fuzzydice.auth import identities
from fuzzydice.chain.networks import Network
from fuzzydice.funding import eip681, faucet
from fuzzydice.mfa.qr import qr_svg_data_uri
from fuzzydice.services import Services
from fuzzydice.settings import Settings
from fuzzydice.wallet.addresses import short_address

FAUCET, RECEIVE, NO_WALLET = "faucet", "receive", "no_wallet"
"""The card's modes; "" until it has loaded."""


@dataclass
class FaucetRow:
    """One faucet button: a wallet of the account on one test chain."""

    key: str
    address: str
    short: str
    chain_id: int
    network: str
    label: str
    busy: bool = False
    note: str = ""
    """When the faucet serves this row again ("" when it does now)."""
    message: str = ""
    """What the last grant sent."""
    error: str = ""


@dataclass
class ReceiveRow:
    """One wallet's payment request on one chain (production, or no faucet)."""

    key: str
    address: str
    network: str
    uri: str
    qr: str
    """The QR code of `uri`, as an SVG data URI."""
    alt: str


@dataclass(frozen=True)
class FundView:
    """What the card shows for one account."""

    mode: str
    faucet_rows: tuple[FaucetRow, ...] = ()
    receive_rows: tuple[ReceiveRow, ...] = ()


# --- words (pure) -------------------------------------------------------------------------


def row_key(chain_id: int, address: str) -> str:
    """The id of a row: chain and address."""
    return f"{chain_id}:{address}"


def button_label(network: Network) -> str:
    """The faucet button's words."""
    return f"Get test ETH and tokens on {network.name}"


def clock_words(moment: datetime, now: datetime) -> str:
    """A moment on the clock relative to `now`: `00:00 UTC tomorrow`, `15:04 UTC today`, or with its date."""
    moment, now = moment.astimezone(timezone.utc), now.astimezone(timezone.utc)
    at = moment.strftime("%H:%M UTC")
    if moment.date() == now.date():
        return f"{at} today"
    if moment.date() == now.date() + timedelta(days=1):
        return f"{at} tomorrow"
    return f"{at} on {moment.strftime('%Y-%m-%d')}"


def funded_note(next_at: datetime, now: datetime) -> str:
    """The note under a button that was just used."""
    return f"Funded — again after {clock_words(next_at, now)}"


def waiting_note(next_at: datetime, now: datetime) -> str:
    """The note under a button the faucet does not serve now (this address was funded, or the account's limit)."""
    return f"Used today — again after {clock_words(next_at, now)}"


def amount_words(amount: Decimal) -> str:
    """A whole amount for people, every digit (no rounding): `1`, `1,000`, `0.5`."""
    text = f"{amount:,f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def sent_words(grant: faucet.FaucetGrant, network_name: str) -> str:
    """What a grant sent, in a sentence: `Sent 1 ETH, 1,000 DICE and 1,000 fUSD to 0x12…ab on Local L2 (anvil).`"""
    parts = [f"{amount_words(sent.amount)} {sent.symbol}" for sent in grant.transfers]
    listed = parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
    return f"Sent {listed} to {short_address(grant.address)} on {network_name}."


# --- what to show (sync: database and QR codes; called through asyncio.to_thread) -----------


def receive_networks(settings: Settings) -> tuple[Network, ...]:
    """The chains a payment request is offered for: those in force, else the ones the settings describe."""
    return settings.active_networks or settings.networks


def fund_view(services: Services, user_id: int) -> FundView:
    """The card's content for `user_id`: faucet buttons, payment requests, or how to get a wallet."""
    wallets = identities.wallet_addresses(services, user_id)
    if not wallets:
        return FundView(NO_WALLET)
    settings, now = services.settings, services.clock.now()
    networks = faucet.faucet_networks(settings)
    if networks:
        rows = []
        for address in wallets:
            for network in networks:
                next_at = faucet.next_available(services, user_id, address, network.chain_id)
                rows.append(
                    FaucetRow(
                        key=row_key(network.chain_id, address), address=address, short=short_address(address),
                        chain_id=network.chain_id, network=network.name, label=button_label(network),
                        note=waiting_note(next_at, now) if next_at else "",
                    )
                )
        return FundView(FAUCET, faucet_rows=tuple(rows))
    receive = []
    for address in wallets:
        for network in receive_networks(settings):
            uri = eip681.eip681_uri(network, address)
            receive.append(
                ReceiveRow(
                    key=row_key(network.chain_id, address), address=address, network=network.name, uri=uri,
                    qr=qr_svg_data_uri(uri), alt=f"QR code to pay {short_address(address)} on {network.name}",
                )
            )
    return FundView(RECEIVE, receive_rows=tuple(receive))
