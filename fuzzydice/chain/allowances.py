"""ERC-20 allowances the user's wallets have granted on the configured tokens.

Spenders are found from `Approval(owner, spender, value)` logs with the wallet as owner over
the last `activity_blocks` blocks (chunked, see `fuzzydice.chain.logscan`); an approval older
than that range is not found. The current `allowance(owner, spender)` of every (owner, token,
spender) seen is then read with one multicall per chain (a later approval or spending may have
changed it), and zero allowances are dropped; one whose read failed is kept as unavailable.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from eth_utils import keccak

from fuzzydice.chain import multicall
from fuzzydice.chain.amounts import format_amount
from fuzzydice.chain.balances import UNAVAILABLE
from fuzzydice.chain.client import ChainClient, ChainUnavailable
from fuzzydice.chain.logscan import scan_logs, scan_range
from fuzzydice.chain.networks import Network
from fuzzydice.chain.reading import address_topic, checked_wallets, problem_text, run_per_chain, topic_address
from fuzzydice.clock import Clock, SystemClock
from fuzzydice.settings import Settings

APPROVAL_TOPIC = "0x" + keccak(text="Approval(address,address,uint256)").hex()

UNLIMITED_FROM = 2**255
"""Allowances at or above this are shown as unlimited.

Wallets and apps grant "unlimited" as `type(uint256).max` (2**256 - 1), but a token that
decreases even a maximal allowance on each `transferFrom` (OpenZeppelin before 4.5, many older
tokens) shows a little less after spending, and no real supply comes near 2**255: any
allowance that large can only come from an unlimited approval. Exactly 2**256 - 1 is
`networks.UNLIMITED_ALLOWANCE`.
"""

UNLIMITED_TEXT = "Unlimited"


@dataclass(frozen=True)
class Allowance:
    """What one wallet lets one spender take of one token."""

    owner: str
    """The user's wallet (EIP-55)."""

    spender: str
    """EIP-55."""

    token_symbol: str
    token_address: str
    decimals: int
    raw: int | None
    """Base units (> 0); None when its read failed."""

    text: str
    """"Unlimited", e.g. "12.5 DICE", or "unavailable"."""

    unlimited: bool
    """At least `UNLIMITED_FROM`."""

    spender_link: str | None
    """The spender's explorer page, when an explorer is configured."""


@dataclass(frozen=True)
class ChainAllowances:
    """The non-zero allowances on one chain, or why they are missing."""

    chain_id: int
    network: str
    allowances: tuple[Allowance, ...]
    """By owner, then token order, then spender."""

    read_at: datetime
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the chain was read."""
        return self.error is None


def read_chain_allowances(
    client: ChainClient, network: Network, wallets: Sequence[str], settings: Settings, clock: Clock | None = None
) -> ChainAllowances:
    """One chain's allowances of `wallets` (checksummed): Approval logs, then one multicall; a failure → `error`."""
    clock = clock or SystemClock()
    if not network.tokens or not wallets:
        return ChainAllowances(network.chain_id, network.name, (), clock.now())
    owners = [address_topic(wallet) for wallet in wallets]
    try:
        latest = client.block_number(network.chain_id)
        blocks = scan_range(latest, settings.activity_blocks, settings.log_chunk_blocks, settings.log_chunk_min_blocks)
        found = scan_logs(
            client,
            network.chain_id,
            [{"address": [token.address for token in network.tokens], "topics": [APPROVAL_TOPIC, owners]}],
            blocks,
        )
        triples: dict[tuple[str, str, str], None] = {}
        for log in found.logs:
            if len(log.topics) == 3 and network.token(log.address):
                triples.setdefault((topic_address(log.topics[1]), log.address, topic_address(log.topics[2])), None)
        order = {token.address: i for i, token in enumerate(network.tokens)}
        keys = sorted(triples, key=lambda key: (wallets.index(key[0]), order[key[1]], key[2]))
        results = multicall.aggregate3(
            client,
            network.chain_id,
            network.multicall,
            [multicall.allowance(token, owner, spender) for owner, token, spender in keys],
        )
    except (ChainUnavailable, multicall.MulticallError) as error:
        return ChainAllowances(network.chain_id, network.name, (), clock.now(), problem_text(network, error))
    allowances = []
    for (owner, token_address, spender), data in zip(keys, results):
        raw = multicall.uint(data)
        if raw == 0:  # revoked or spent
            continue
        token = network.token(token_address)
        unlimited = raw is not None and raw >= UNLIMITED_FROM
        if raw is None:
            text = UNAVAILABLE
        else:
            text = UNLIMITED_TEXT if unlimited else format_amount(raw, token.decimals, token.symbol)
        allowances.append(
            Allowance(
                owner=owner,
                spender=spender,
                token_symbol=token.symbol,
                token_address=token.address,
                decimals=token.decimals,
                raw=raw,
                text=text,
                unlimited=unlimited,
                spender_link=network.address_link(spender),
            )
        )
    return ChainAllowances(network.chain_id, network.name, tuple(allowances), clock.now())


def read_allowances(
    client: ChainClient,
    networks: Sequence[Network],
    wallets: Iterable[str],
    settings: Settings,
    clock: Clock | None = None,
) -> list[ChainAllowances]:
    """Non-zero allowances granted by `wallets` on every network's tokens, the chains read at once in threads.

    Blocking: run it with `asyncio.to_thread`.

    Raises:
        ValueError: a wallet is not an address.
    """
    checked = checked_wallets(wallets)
    return run_per_chain(networks, lambda network: read_chain_allowances(client, network, checked, settings, clock))
