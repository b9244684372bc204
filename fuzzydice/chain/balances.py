"""Balances of the user's wallets on every chain: one `eth_call` per chain, chains read at once.

For each network one Multicall3 `aggregate3` holds `getBlockNumber()`, then per wallet
`getEthBalance(wallet)` and each configured token's `balanceOf(wallet)`. A chain that does
not answer gives a `ChainBalances` with an `error` in words and the others still show; a
token whose sub-call failed is unavailable (`raw` None), never zero.

Synchronous (threads per chain): the UI calls `read_balances_async` or runs `read_balances`
through `asyncio.to_thread`.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from fuzzydice.chain import multicall
from fuzzydice.chain.amounts import format_amount, to_decimal
from fuzzydice.chain.client import ChainClient, ChainUnavailable
from fuzzydice.chain.networks import Network
from fuzzydice.chain.reading import checked_wallets, problem_text, run_per_chain
from fuzzydice.clock import Clock, SystemClock

UNAVAILABLE = "unavailable"
"""The text of an amount that could not be read."""


@dataclass(frozen=True)
class TokenAmount:
    """An amount of one currency: the native one (`address` None) or an ERC-20 token."""

    symbol: str
    decimals: int
    raw: int | None
    """Base units; None: the read failed (shown as unavailable, never as zero)."""

    text: str
    """For people: "1,234.5678 DICE", "< 0.0001 ETH", "unavailable"."""

    address: str | None = None
    """The token contract; None for the native currency."""

    name: str = ""

    @classmethod
    def of(cls, symbol: str, decimals: int, raw: int | None, address: str | None = None, name: str = "") -> TokenAmount:
        """The amount with its text."""
        text = UNAVAILABLE if raw is None else format_amount(raw, decimals, symbol)
        return cls(symbol=symbol, decimals=decimals, raw=raw, text=text, address=address, name=name)

    @property
    def available(self) -> bool:
        """Whether the amount was read."""
        return self.raw is not None

    @property
    def value(self) -> Decimal | None:
        """Whole units, exact; None when unavailable."""
        return None if self.raw is None else to_decimal(self.raw, self.decimals)


@dataclass(frozen=True)
class WalletBalances:
    """One wallet's balances on one chain."""

    wallet: str
    """EIP-55 address."""

    native: TokenAmount
    tokens: tuple[TokenAmount, ...]
    """In the network's token order."""


@dataclass(frozen=True)
class ChainBalances:
    """Every wallet's balances on one chain, or why they are missing."""

    chain_id: int
    network: str
    """The network's name in words."""

    layer: str
    """"L1" or "L2"."""

    wallets: tuple[WalletBalances, ...]
    """Empty when `error` is set."""

    block_number: int | None
    """The block the balances were read at (None when unknown)."""

    read_at: datetime
    """When the read finished ("last updated")."""

    error: str | None = None
    """E.g. "Local L2 (anvil) did not answer"; None when read."""

    @property
    def ok(self) -> bool:
        """Whether the chain was read."""
        return self.error is None


def balance_calls(network: Network, wallets: Sequence[str]) -> list[multicall.Call]:
    """The sub-calls of one chain's read: block number, then per wallet native balance and each token's."""
    calls = [multicall.block_number(network.multicall)]
    for wallet in wallets:
        calls.append(multicall.eth_balance(network.multicall, wallet))
        calls.extend(multicall.balance_of(token.address, wallet) for token in network.tokens)
    return calls


@functools.lru_cache(maxsize=256)
def _balance_calldata(network: Network, wallets: tuple[str, ...]) -> tuple[bytes, int]:
    """The `aggregate3` calldata of one chain's read and its number of sub-calls (the same on every refresh)."""
    calls = balance_calls(network, wallets)
    return multicall.encode_aggregate3(calls), len(calls)


def read_chain_balances(
    client: ChainClient, network: Network, wallets: Sequence[str], clock: Clock | None = None
) -> ChainBalances:
    """One chain's balances of `wallets` (checksummed) in one `eth_call`; a failure becomes `error`."""
    clock = clock or SystemClock()
    calldata, count = _balance_calldata(network, tuple(wallets))
    try:
        results = multicall.decode_aggregate3(client.call(network.chain_id, network.multicall, calldata), count)
    except (ChainUnavailable, multicall.MulticallError) as error:
        return ChainBalances(
            chain_id=network.chain_id,
            network=network.name,
            layer=network.layer,
            wallets=(),
            block_number=None,
            read_at=clock.now(),
            error=problem_text(network, error),
        )
    per_wallet = 1 + len(network.tokens)
    balances = []
    for i, wallet in enumerate(wallets):
        chunk = results[1 + i * per_wallet : 1 + (i + 1) * per_wallet]
        native = TokenAmount.of(network.native_symbol, network.native_decimals, multicall.uint(chunk[0]))
        tokens = tuple(
            TokenAmount.of(token.symbol, token.decimals, multicall.uint(data), token.address, token.name)
            for token, data in zip(network.tokens, chunk[1:])
        )
        balances.append(WalletBalances(wallet=wallet, native=native, tokens=tokens))
    return ChainBalances(
        chain_id=network.chain_id,
        network=network.name,
        layer=network.layer,
        wallets=tuple(balances),
        block_number=multicall.uint(results[0]),
        read_at=clock.now(),
    )


def read_balances(
    client: ChainClient, networks: Sequence[Network], wallets: Iterable[str], clock: Clock | None = None
) -> list[ChainBalances]:
    """Balances of `wallets` on every network (in `networks` order), the chains read at once in threads.

    Blocking: run it with `asyncio.to_thread`, or await `read_balances_async`.

    Raises:
        ValueError: a wallet is not an address.
    """
    checked = checked_wallets(wallets)
    return run_per_chain(networks, lambda network: read_chain_balances(client, network, checked, clock))


async def read_balances_async(
    client: ChainClient, networks: Sequence[Network], wallets: Iterable[str], clock: Clock | None = None
) -> list[ChainBalances]:
    """`read_balances` for the event loop: each chain in its own `asyncio.to_thread`, gathered."""
    checked = checked_wallets(wallets)
    return list(
        await asyncio.gather(
            *(asyncio.to_thread(read_chain_balances, client, network, checked, clock) for network in networks)
        )
    )
