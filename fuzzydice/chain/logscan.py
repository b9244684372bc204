"""`eth_getLogs` over a bounded block range in chunks, newest first, halving the chunk when the provider refuses.

Providers cap `eth_getLogs` (1k–10k blocks, or a number of results) and answer a wider query
with an error. `scan_logs` walks the range from its newest block down in chunks of
`log_chunk_blocks`; when the endpoint refuses a chunk (`ChainRefused`) the chunk is halved and
the same blocks asked again, down to `log_chunk_min_blocks`, below which the chain counts as
refusing (`LogScanRefused`). A chain that does not answer at all (`ChainUnavailable` but not
refused) is given up at once: halving would only wait for its timeout again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fuzzydice.chain.client import ChainClient, ChainRefused, Log


class LogScanRefused(ChainRefused):
    """The endpoint refused `eth_getLogs` even over the smallest chunk."""


@dataclass(frozen=True)
class ScanRange:
    """The blocks to scan (inclusive) and the chunk sizes to scan them with."""

    first: int
    last: int
    chunk: int
    """Blocks per request to start with."""

    floor: int
    """The smallest chunk halving may reach."""


@dataclass(frozen=True)
class ScanResult:
    """The logs found and how far down the scan went."""

    logs: tuple[Log, ...]
    """Newest first (block, then log index, descending), each log once."""

    lowest_block: int
    """The oldest block scanned (`first` when the whole range was scanned)."""

    chunk: int
    """The chunk size the scan ended with (smaller than asked when the provider refused)."""


def scan_logs(
    client: ChainClient,
    chain_id: int,
    filters: Sequence[Mapping[str, Any]],
    blocks: ScanRange,
    enough: Callable[[Sequence[Log]], bool] | None = None,
) -> ScanResult:
    """Every log matching any of `filters` (`address`/`topics` of `eth_getLogs`) in `blocks`, newest first.

    Each chunk asks every filter over the same blocks; `enough(logs so far)` is checked after each
    chunk and stops the scan early (older chunks are not read).

    Raises:
        LogScanRefused: the endpoint refused even a chunk of `blocks.floor` blocks.
        ChainUnavailable: the endpoint did not answer.
    """
    if blocks.chunk < 1 or blocks.floor < 1:
        raise ValueError("chunks hold at least one block")
    chunk = blocks.chunk
    found: dict[tuple[str, int], Log] = {}
    high = blocks.last
    lowest = blocks.last + 1
    while high >= blocks.first:
        low = max(blocks.first, high - chunk + 1)
        try:
            batch = [
                log
                for params in filters
                for log in client.get_logs(chain_id, {**params, "fromBlock": low, "toBlock": high})
            ]
        except ChainRefused:
            if chunk <= blocks.floor:
                raise LogScanRefused(f"chain {chain_id} refused eth_getLogs over {chunk} blocks") from None
            chunk = max(blocks.floor, chunk // 2)
            continue
        for log in batch:
            found.setdefault((log.tx_hash, log.log_index), log)
        lowest = low
        high = low - 1
        if enough is not None and enough(list(found.values())):
            break
    logs = sorted(found.values(), key=lambda log: (log.block_number, log.log_index), reverse=True)
    return ScanResult(logs=tuple(logs), lowest_block=lowest, chunk=chunk)


def scan_range(latest: int, settings_blocks: int, chunk: int, floor: int) -> ScanRange:
    """The last `settings_blocks` blocks up to `latest` (never below block 0)."""
    return ScanRange(first=max(0, latest - settings_blocks + 1), last=latest, chunk=chunk, floor=min(floor, chunk))
