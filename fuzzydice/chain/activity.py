"""Recent activity of the user's wallets: token transfers and native transfers, newest first, all chains merged.

- Token transfers: ERC-20 `Transfer` logs from or to the wallets on the configured tokens over
  the last `activity_blocks` blocks, read newest first in chunks (`fuzzydice.chain.logscan`:
  halved when the provider refuses a range), stopping once `activity_limit` are found.
- Native transfers (ETH sent with a transaction; internal transfers are not seen):
  on test and local chains (`Network.testnet`) the last `native_scan_blocks` blocks are read
  with their transactions; on other chains an Etherscan-compatible explorer API
  (`Network.explorer_api_url`, `?module=account&action=txlist`) is asked when configured.

A chain's failure becomes a `ChainProblem` and the other chains still show; an explorer that
fails costs only that chain's native transfers. Blocking (threads per chain): the UI runs
`read_activity` through `asyncio.to_thread`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any, Literal

import httpx
from eth_utils import is_address, keccak, to_checksum_address

from fuzzydice.chain.amounts import format_amount
from fuzzydice.chain.client import Block, ChainClient, ChainRefused, ChainUnavailable, Log
from fuzzydice.chain.logscan import scan_logs, scan_range
from fuzzydice.chain.networks import Network
from fuzzydice.chain.reading import (
    ChainProblem,
    address_topic,
    checked_wallets,
    problem_text,
    run_per_chain,
    topic_address,
)
from fuzzydice.clock import Clock, SystemClock
from fuzzydice.settings import Settings

TRANSFER_TOPIC = "0x" + keccak(text="Transfer(address,address,uint256)").hex()

Direction = Literal["in", "out", "self"]
Kind = Literal["native", "token"]


class ExplorerUnavailable(Exception):
    """The explorer API did not answer, or not with a transaction list."""


@dataclass(frozen=True)
class ActivityItem:
    """One transfer to or from one of the user's wallets."""

    chain_id: int
    network: str
    """The network's name."""

    tx_hash: str
    block_number: int
    timestamp: datetime | None
    """The block's time (UTC) when known."""

    direction: Direction
    """"in" to the wallet, "out" from it, "self" between the user's own wallets."""

    wallet: str
    """The user's wallet (the sender for "out" and "self")."""

    counterparty: str
    """The other address (the receiver for "self")."""

    kind: Kind
    symbol: str
    raw: int
    """Base units moved."""

    amount_text: str
    """E.g. "1.5 DICE"."""

    link: str | None
    """The transaction's explorer page, when an explorer is configured."""

    token_address: str | None = None
    """The token contract; None for native transfers."""

    log_index: int | None = None
    """The log's position in its block (token transfers); orders items of one block."""


@dataclass(frozen=True)
class ActivityReport:
    """Recent activity across chains and the chains (or parts) that could not be read."""

    items: tuple[ActivityItem, ...]
    """Newest first, at most `activity_limit`."""

    problems: tuple[ChainProblem, ...]
    read_at: datetime


def _direction(sender: str, receiver: str, wallets: Sequence[str]) -> tuple[Direction, str, str] | None:
    """(direction, wallet, counterparty) of a transfer, or None when no wallet takes part."""
    if sender in wallets:
        return ("self" if receiver in wallets else "out"), sender, receiver
    if receiver in wallets:
        return "in", receiver, sender
    return None


def _when(timestamp: int | None) -> datetime | None:
    """A node's or explorer's Unix time as a UTC datetime; None when absent or beyond what a datetime holds."""
    if timestamp is None:
        return None
    try:
        return datetime.fromtimestamp(timestamp, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):  # a broken or hostile answer must not break the whole read
        return None


def _token_item(network: Network, log: Log, wallets: Sequence[str]) -> ActivityItem | None:
    """The activity item of a `Transfer` log (None when not an ERC-20 transfer of a configured token)."""
    token = network.token(log.address)
    if token is None or len(log.topics) != 3 or len(log.data) < 32:
        return None
    parties = _direction(topic_address(log.topics[1]), topic_address(log.topics[2]), wallets)
    if parties is None:
        return None
    direction, wallet, counterparty = parties
    raw = int.from_bytes(log.data[:32], "big")
    return ActivityItem(
        chain_id=network.chain_id,
        network=network.name,
        tx_hash=log.tx_hash,
        block_number=log.block_number,
        timestamp=_when(log.timestamp),
        direction=direction,
        wallet=wallet,
        counterparty=counterparty,
        kind="token",
        symbol=token.symbol,
        raw=raw,
        amount_text=format_amount(raw, token.decimals, token.symbol),
        link=network.tx_link(log.tx_hash),
        token_address=token.address,
        log_index=log.log_index,
    )


def _native_item(
    network: Network, tx_hash: str, block: int, timestamp: int | None, sender: str, to: str, value: int, wallets
) -> ActivityItem | None:
    parties = _direction(sender, to, wallets)
    if parties is None or value <= 0:
        return None
    direction, wallet, counterparty = parties
    return ActivityItem(
        chain_id=network.chain_id,
        network=network.name,
        tx_hash=tx_hash,
        block_number=block,
        timestamp=_when(timestamp),
        direction=direction,
        wallet=wallet,
        counterparty=counterparty,
        kind="native",
        symbol=network.native_symbol,
        raw=value,
        amount_text=format_amount(value, network.native_decimals, network.native_symbol),
        link=network.tx_link(tx_hash),
    )


def _native_from_blocks(network: Network, blocks: Iterable[Block], wallets: Sequence[str]) -> list[ActivityItem]:
    items = []
    for block in blocks:
        for tx in block.transactions:
            if tx.to is not None:
                item = _native_item(
                    network, tx.hash, block.number, block.timestamp, tx.sender, tx.to, tx.value, wallets
                )
                if item is not None:
                    items.append(item)
    return items


def explorer_transfers(
    network: Network, wallet: str, wallets: Sequence[str], first_block: int, settings: Settings
) -> list[ActivityItem]:
    """Native transfers of `wallet` from the network's Etherscan-compatible API (newest first).

    Asks `?module=account&action=txlist&address=…&startblock=…&sort=desc&page=1&offset=<activity_limit>`
    (query parameters already in `explorer_api_url`, e.g. an API key, are kept). Failed and
    zero-value transactions are left out, and so are entries that are not well formed.

    Raises:
        ExplorerUnavailable: no answer within `chain_rpc_timeout`, an HTTP error, or no transaction list.
    """
    if not network.explorer_api_url:
        return []
    params = {
        "module": "account",
        "action": "txlist",
        "address": wallet,
        "startblock": str(first_block),
        "sort": "desc",
        "page": "1",
        "offset": str(settings.activity_limit),
    }
    try:
        # httpx's `params=` would replace the URL's own query (an API key, Etherscan v2's chainid): merge them.
        url = httpx.URL(network.explorer_api_url).copy_merge_params(params)
        response = httpx.get(url, timeout=settings.chain_rpc_timeout.total_seconds())
        response.raise_for_status()
        answer = response.json()
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as error:
        # `from None`: httpx's error text holds the URL, which may carry an API key.
        raise ExplorerUnavailable(f"the explorer did not answer ({type(error).__name__})") from None
    if not isinstance(answer, dict):
        raise ExplorerUnavailable("the explorer answered something else than a transaction list")
    result = answer.get("result")
    if not isinstance(result, list):
        if str(answer.get("message", "")).startswith("No transactions found"):
            return []
        raise ExplorerUnavailable("the explorer answered something else than a transaction list")
    items = []
    for entry in result:
        item = _explorer_item(network, entry, wallets)
        if item is not None:
            items.append(item)
    return items


def _explorer_item(network: Network, entry: Any, wallets: Sequence[str]) -> ActivityItem | None:
    """An item from one `txlist` entry; None for failed, zero-value, creation or malformed entries."""
    if not isinstance(entry, dict):
        return None
    try:
        tx_hash = str(entry["hash"])
        if len(tx_hash) != 66 or not tx_hash.startswith("0x"):
            return None
        bytes.fromhex(tx_hash[2:])
        sender, to = entry["from"], entry["to"]
        if not (isinstance(sender, str) and isinstance(to, str) and is_address(sender) and is_address(to)):
            return None
        if str(entry.get("isError", "0")) != "0":
            return None
        value, block, timestamp = int(entry["value"]), int(entry["blockNumber"]), int(entry["timeStamp"])
    except (KeyError, ValueError, TypeError):
        return None
    return _native_item(
        network, tx_hash.lower(), block, timestamp, to_checksum_address(sender), to_checksum_address(to), value, wallets
    )


def read_chain_activity(
    client: ChainClient, network: Network, wallets: Sequence[str], settings: Settings
) -> tuple[list[ActivityItem], list[ChainProblem]]:
    """One chain's newest transfers (at most `activity_limit`, newest first) and what could not be read."""
    limit = settings.activity_limit
    problems: list[ChainProblem] = []

    def problem(message: str) -> None:
        problems.append(ChainProblem(network.chain_id, network.name, message))

    if not wallets:
        return [], []
    try:
        latest = client.block_number(network.chain_id)
    except ChainUnavailable as error:
        problem(problem_text(network, error))
        return [], problems
    blocks = scan_range(latest, settings.activity_blocks, settings.log_chunk_blocks, settings.log_chunk_min_blocks)

    tokens: list[ActivityItem] = []
    if network.tokens:
        topics = [address_topic(wallet) for wallet in wallets]
        addresses = [token.address for token in network.tokens]
        filters = [
            {"address": addresses, "topics": [TRANSFER_TOPIC, topics]},  # from a wallet
            {"address": addresses, "topics": [TRANSFER_TOPIC, None, topics]},  # to a wallet
        ]
        try:
            found = scan_logs(client, network.chain_id, filters, blocks, enough=lambda logs: len(logs) >= limit)
            tokens = [item for log in found.logs if (item := _token_item(network, log, wallets)) is not None]
        except ChainRefused as error:  # it answers, but not to eth_getLogs: its native transfers may still be read
            problem(problem_text(network, error))
        except ChainUnavailable as error:  # it stopped answering: asking for blocks would only wait again
            problem(problem_text(network, error))
            return [], problems

    native: list[ActivityItem] = []
    scanned: dict[int, int] = {}  # block number → timestamp, from the native scan
    if network.testnet:
        numbers = list(range(latest, max(-1, latest - settings.native_scan_blocks), -1))
        try:
            read = client.get_blocks(network.chain_id, numbers, True)
            scanned = {block.number: block.timestamp for block in read}
            native = _native_from_blocks(network, read, wallets)
        except ChainUnavailable as error:
            problem(problem_text(network, error))
    elif network.explorer_api_url:
        try:
            for wallet in wallets:
                native.extend(explorer_transfers(network, wallet, wallets, blocks.first, settings))
        except ExplorerUnavailable:
            problem(f"The explorer of {network.name} did not answer: its {network.native_symbol} transfers are missing")
        native = list({(item.tx_hash, item.wallet): item for item in native}.values())  # a self-transfer twice

    items = sorted(tokens + native, key=_order, reverse=True)[:limit]
    return _with_timestamps(client, network, items, scanned), problems


def _with_timestamps(
    client: ChainClient, network: Network, items: list[ActivityItem], known: dict[int, int]
) -> list[ActivityItem]:
    """`items` with the block times the logs did not carry (one batched read; left unknown if it fails)."""
    missing = sorted({item.block_number for item in items if item.timestamp is None} - known.keys())
    if missing:
        try:
            read = client.get_blocks(network.chain_id, missing, False)
            known = known | {block.number: block.timestamp for block in read}
        except ChainUnavailable:
            return items
    return [
        replace(item, timestamp=_when(known[item.block_number]))
        if item.timestamp is None and item.block_number in known
        else item
        for item in items
    ]


def _order(item: ActivityItem) -> tuple[int, int]:
    """Within a chain: by block, then log position (native transfers, without one, first in the block)."""
    return item.block_number, -1 if item.log_index is None else item.log_index


def _merged_order(item: ActivityItem) -> tuple[float, int, int, int]:
    """Across chains: by time when known (then the chain's own order)."""
    when = item.timestamp.timestamp() if item.timestamp else float("-inf")
    return when, item.chain_id, *_order(item)


def read_activity(
    client: ChainClient,
    networks: Sequence[Network],
    wallets: Iterable[str],
    settings: Settings,
    clock: Clock | None = None,
) -> ActivityReport:
    """The newest transfers of `wallets` on every network (at most `activity_limit`, newest first), chains at once.

    Blocking: run it with `asyncio.to_thread`.

    Raises:
        ValueError: a wallet is not an address.
    """
    clock = clock or SystemClock()
    checked = checked_wallets(wallets)
    per_chain = run_per_chain(networks, lambda network: read_chain_activity(client, network, checked, settings))
    items = [item for chain_items, _ in per_chain for item in chain_items]
    problems = [problem for _, chain_problems in per_chain for problem in chain_problems]
    merged = sorted(items, key=_merged_order, reverse=True)[: settings.activity_limit]
    return ActivityReport(items=tuple(merged), problems=tuple(problems), read_at=clock.now())
