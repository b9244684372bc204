"""What the balance, allowance and activity readers share: chains read at once, problems in words, wallets checked.

Each reader reads every network in its own thread (`run_per_chain`), so one slow or dead
chain costs its own timeout, not the sum; a chain's failure becomes words for that chain
(`problem_text`), never an exception for the page.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from eth_utils import is_address, to_checksum_address

from fuzzydice.chain.client import ChainRefused, ChainUnavailable
from fuzzydice.chain.logscan import LogScanRefused
from fuzzydice.chain.multicall import MulticallError
from fuzzydice.chain.networks import Network

T = TypeVar("T")


@dataclass(frozen=True)
class ChainProblem:
    """Why part of a chain's data is missing, in words."""

    chain_id: int
    network: str
    """The network's name."""

    message: str
    """E.g. "Local L2 (anvil) did not answer"."""


def problem_text(network: Network, error: Exception) -> str:
    """Words for a failed read of `network` (never the RPC URL, which may hold an API key)."""
    if isinstance(error, MulticallError):
        return f"{network.name} has no working multicall contract at {network.multicall}"
    if isinstance(error, LogScanRefused):
        return f"{network.name} refused to search its event logs"
    if isinstance(error, ChainRefused):
        return f"{network.name} answered with an error"
    if isinstance(error, ChainUnavailable):
        return f"{network.name} did not answer"
    return f"{network.name} could not be read"


def checked_wallets(wallets: Iterable[str]) -> tuple[str, ...]:
    """The wallets EIP-55 checksummed, duplicates (any case) dropped, order kept.

    Raises:
        ValueError: one is not a 20-byte hex address (a caller bug: wallets come from the database).
    """
    seen: dict[str, None] = {}
    for wallet in wallets:
        if not isinstance(wallet, str) or not is_address(wallet):
            raise ValueError(f"not an address: {wallet!r}")
        seen.setdefault(to_checksum_address(wallet), None)
    return tuple(seen)


READ_THREADS = 16
"""Threads that read chains for every page at once (a chain that does not answer holds one for its timeout).

The threads live as long as the process: web3.py keeps one HTTP session (and its kept-alive
connection) per thread and endpoint, so reused threads reuse their connections, where a new
thread per refresh would open a new connection each time and leave the old one to linger.
"""

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=READ_THREADS, thread_name_prefix="chain-read")
        return _pool


def run_per_chain(networks: Sequence[Network], read: Callable[[Network], T]) -> list[T]:
    """`read(network)` for every network at once on the shared chain-read threads; results in `networks` order.

    `read` must turn a chain's failure into a result itself (an exception here is a bug and is raised).
    Never call it from inside `read` (the threads would wait for themselves).
    """
    if not networks:
        return []
    others = [_executor().submit(read, network) for network in networks[1:]]
    first = read(networks[0])  # the calling thread reads one chain itself instead of only waiting
    return [first, *(future.result() for future in others)]


def address_topic(address: str) -> str:
    """An address as a 32-byte log topic (0x hex, left-padded)."""
    return "0x" + "00" * 12 + to_checksum_address(address)[2:].lower()


def topic_address(topic: bytes) -> str:
    """The address held in a 32-byte log topic (EIP-55)."""
    return to_checksum_address(topic[-20:])
