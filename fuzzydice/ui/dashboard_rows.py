"""Rows ready to render for the home and wallet pages, built from the chain readers' and cores' results.

Pure functions (no Reflex, no I/O): the page states call them on what
`fuzzydice.chain.balances`, `allowances`, `activity`, `fuzzydice.auth.authorizations` and
`fuzzydice.play.sessions` return, and keep the rows as state vars. Every text a person
reads is made here (amounts with symbols, shortened addresses, times in UTC), so the
components only place it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from fuzzydice.chain.activity import ActivityItem, ActivityReport
from fuzzydice.chain.allowances import ChainAllowances
from fuzzydice.chain.amounts import format_amount
from fuzzydice.chain.balances import UNAVAILABLE, ChainBalances, TokenAmount
from fuzzydice.chain.networks import DEMO_DEPLOYER
from fuzzydice.play.sessions import EXPIRED, PlaySession
from fuzzydice.wallet.addresses import short_address


def utc_time(moment: datetime) -> str:
    """`14:02:03 UTC` (a naive time counts as UTC)."""
    return _utc(moment).strftime("%H:%M:%S UTC")


def utc_date_time(moment: datetime) -> str:
    """`2026-11-22 23:40 UTC` (a naive time counts as UTC)."""
    return _utc(moment).strftime("%Y-%m-%d %H:%M UTC")


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


# --- balances ---------------------------------------------------------------------------------


@dataclass
class AmountLine:
    """One currency of one wallet on one chain."""

    symbol: str
    amount: str
    """In human units without the symbol ("1,000", "< 0.0001"), or "unavailable"."""
    zero: bool
    """Read, and exactly zero (a page may hide these)."""
    available: bool
    native: bool


@dataclass
class WalletBalanceRow:
    """One wallet's balances on one chain: the native coin first, then the tokens in the network's order."""

    address: str
    short: str
    lines: list[AmountLine] = field(default_factory=list)


@dataclass
class ChainBalanceRow:
    """One chain's section: its name and layer, then each wallet, or the chain's error."""

    chain_id: int
    network: str
    layer: str
    error: str
    """Empty when the chain was read."""
    wallets: list[WalletBalanceRow] = field(default_factory=list)


def amount_line(amount: TokenAmount, native: bool) -> AmountLine:
    """A currency's line: the amount in human units, apart from its symbol."""
    available = amount.raw is not None
    text = format_amount(amount.raw, amount.decimals) if available else UNAVAILABLE
    return AmountLine(
        symbol=amount.symbol, amount=text, zero=available and amount.raw == 0, available=available, native=native
    )


def balance_rows(chains: Sequence[ChainBalances]) -> list[ChainBalanceRow]:
    """One row per chain, in the readers' order (the settings' order of networks)."""
    rows = []
    for chain in chains:
        wallets = [
            WalletBalanceRow(
                address=wallet.wallet,
                short=short_address(wallet.wallet),
                lines=[amount_line(wallet.native, True), *(amount_line(token, False) for token in wallet.tokens)],
            )
            for wallet in chain.wallets
        ]
        rows.append(
            ChainBalanceRow(
                chain_id=chain.chain_id,
                network=chain.network,
                layer=chain.layer,
                error=chain.error or "",
                wallets=[] if chain.error else wallets,
            )
        )
    return rows


def last_updated(moments: Sequence[datetime]) -> str:
    """"Last updated 14:02:03 UTC" from when the reads finished (the latest); "" when nothing was read."""
    return f"Last updated {utc_time(max(moments))}" if moments else ""


# --- authorizations ---------------------------------------------------------------------------

FACTOR_WORDS: dict[str, str] = {
    "totp": "Authenticator app (6-digit codes)",
    "backup_codes": "Backup codes",
}
"""Each kind of second factor in words (`fuzzydice.mfa.kinds.KINDS`)."""


def factor_lines(kinds: Sequence[str], backup_codes_left: int) -> list[str]:
    """The account's second factors in words, in the order they were set up; backup codes with how many are left."""
    lines = []
    for kind in dict.fromkeys(kinds):
        words = FACTOR_WORDS.get(kind, kind.replace("_", " ").capitalize())
        if kind == "backup_codes":
            words = f"{words} ({backup_codes_left} left)"
        lines.append(words)
    return lines


def sessions_text(signed_in: int, pending: int) -> str:
    """"2 signed-in sessions (this one included)", and the sign-ins waiting for their second step, if any."""
    text = f"{signed_in} signed-in session{'s' if signed_in != 1 else ''} (this one included)"
    if pending:
        text += (
            f", and {pending} sign-in{'s' if pending != 1 else ''} that passed the first step but not the second"
        )
    return text


@dataclass
class AllowanceRow:
    """What one of the user's wallets lets one spender take of one token."""

    network: str
    token: str
    owner_short: str
    spender: str
    spender_short: str
    spender_link: str
    """The spender's explorer page; "" when no explorer is configured."""
    amount: str
    """"Unlimited", "12.5 DICE" or "unavailable"."""
    unlimited: bool


def allowance_rows(chains: Sequence[ChainAllowances]) -> list[AllowanceRow]:
    """Every non-zero allowance, chain by chain (the readers' order within a chain)."""
    return [
        AllowanceRow(
            network=chain.network,
            token=allowance.token_symbol,
            owner_short=short_address(allowance.owner),
            spender=allowance.spender,
            spender_short=short_address(allowance.spender),
            spender_link=allowance.spender_link or "",
            amount=allowance.text,
            unlimited=allowance.unlimited,
        )
        for chain in chains
        if chain.ok
        for allowance in chain.allowances
    ]


def chain_errors(chains: Sequence[ChainAllowances]) -> list[str]:
    """The words of each chain that could not be read."""
    return [chain.error for chain in chains if chain.error]


# --- recent activity --------------------------------------------------------------------------

DIRECTION_WORDS = {"in": "Received", "out": "Sent", "self": "Moved between your wallets"}
COUNTERPARTY_WORDS = {"in": "from", "out": "to", "self": "to"}

KNOWN_PARTIES = {DEMO_DEPLOYER.lower(): "the demo faucet"}
"""Addresses shown by name in the activity list (the demo faucet's address has no key: nobody else holds it)."""


def party_name(address: str) -> str:
    """An address as the activity list names it: a known party by name, any other shortened."""
    return KNOWN_PARTIES.get(address.lower(), short_address(address))


@dataclass
class ActivityRow:
    """One transfer, as the activity list shows it."""

    direction: str
    """"Received", "Sent" or "Moved between your wallets"."""
    incoming: bool
    amount: str
    """With its symbol: "1.5 DICE"."""
    counterparty: str
    """"from 0x1234…abcd" / "to 0x1234…abcd"."""
    counterparty_address: str
    network: str
    when: str
    """"2026-11-22 23:40 UTC", or "block 1234" when the block's time is unknown."""
    link: str
    """The transaction's explorer page; "" when no explorer is configured."""
    key: str
    """Unique within a report (the transaction, the log and the wallet)."""


def activity_row(item: ActivityItem) -> ActivityRow:
    """An activity item in words."""
    return ActivityRow(
        direction=DIRECTION_WORDS[item.direction],
        incoming=item.direction == "in",
        amount=item.amount_text,
        counterparty=f"{COUNTERPARTY_WORDS[item.direction]} {party_name(item.counterparty)}",
        counterparty_address=item.counterparty,
        network=item.network,
        when=utc_date_time(item.timestamp) if item.timestamp else f"block {item.block_number:,}",
        link=item.link or "",
        key=f"{item.chain_id}:{item.tx_hash}:{item.log_index}:{item.wallet}",
    )


def activity_rows(report: ActivityReport) -> list[ActivityRow]:
    """The report's items in its order (newest first)."""
    return [activity_row(item) for item in report.items]


def activity_problems(report: ActivityReport) -> list[str]:
    """What could not be read, chain by chain."""
    return [problem.message for problem in report.problems]


def no_activity_text(blocks: int) -> str:
    """What an empty list says: how far back it looked."""
    return f"No activity in the last {blocks:,} blocks."


# --- play sessions ----------------------------------------------------------------------------


@dataclass
class PlayRow:
    """One play session as the home page lists it."""

    id: int
    network: str
    duration: str
    """"15 minutes"."""
    limit: str
    """"Spending limit 0.5 ETH"."""
    started: str
    status: str
    """"12 minutes left (ends 14:30 UTC)", "Ended by you at …", "Ran out at …"."""


def time_left_text(left: timedelta) -> str:
    """"12 minutes left", "less than a minute left"."""
    minutes = int(left.total_seconds() // 60)
    if minutes < 1:
        return "less than a minute left"
    return f"{minutes} minute{'s' if minutes != 1 else ''} left"


def play_row(play: PlaySession, now: datetime, network_name: Callable[[int], str]) -> PlayRow:
    """A play session in words, as it stands `now`."""
    if play.running:
        status = f"{time_left_text(play.time_left(now))} (ends {utc_date_time(play.ends_at)})"
    elif play.end_reason == EXPIRED:
        status = f"Ran out at {utc_date_time(play.ended_at or play.ends_at)}"
    else:
        status = f"Ended by you at {utc_date_time(play.ended_at or play.ends_at)}"
    return PlayRow(
        id=play.id,
        network=network_name(play.chain_id),
        duration=f"{play.minutes} minutes",
        limit=f"Spending limit {play.spending_limit.normalize():f} {play.symbol}",
        started=f"Started {utc_date_time(play.started_at)}",
        status=status,
    )


def past_play_rows(
    history: Sequence[PlaySession], now: datetime, network_name: Callable[[int], str], limit: int = 5
) -> list[PlayRow]:
    """The last `limit` sessions that have ended, newest first (the running one is shown apart)."""
    return [play_row(play, now, network_name) for play in history if not play.running][:limit]
