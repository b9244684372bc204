"""Reading chains behind one small protocol: code at an address, EIP-1271 signature checks, and the few
raw reads the balance, allowance and activity readers build on (`call`, `block_number`, `get_logs`,
`get_blocks`).

Synchronous (web3.py over HTTP): callers on the event loop use `asyncio.to_thread`.
The chain allow-list and its RPC URLs come from settings (`allowed_chains`); a
chain the settings do not name, an endpoint that does not answer within
`chain_rpc_timeout` (no retries), or an endpoint serving another chain id all
raise `ChainUnavailable`; an endpoint that answers with an error (a JSON-RPC error
or an HTTP error status, e.g. a log range beyond its cap) raises its subclass
`ChainRefused`. RPC URLs may carry an API key: they are never put in
an error message or a log line.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import requests
from eth_abi import encode as abi_encode
from hexbytes import HexBytes
from web3 import HTTPProvider, Web3
from web3.exceptions import ContractLogicError, Web3RPCError
from web3.types import RPCEndpoint

from fuzzydice.chain.eip1271 import MAGIC_VALUE, ChainUnavailable
from fuzzydice.settings import Settings

T = TypeVar("T")

_MAGIC_WORD = MAGIC_VALUE.ljust(32, b"\0")

BLOCK_BATCH = 100
"""Blocks asked for in one JSON-RPC batch by `get_blocks` (providers cap batch sizes)."""


class ChainRefused(ChainUnavailable):
    """The endpoint answered, with an error: a JSON-RPC error, an HTTP error status or a revert.

    Unlike a silent or unreachable endpoint, asking again differently may work (e.g. a smaller
    `eth_getLogs` range: providers cap ranges and result counts).
    """


@dataclass(frozen=True)
class Log:
    """One event log as `eth_getLogs` gives it."""

    address: str
    """The emitting contract (EIP-55)."""

    topics: tuple[bytes, ...]
    """The 32-byte topics (topics[0]: the event signature hash)."""

    data: bytes
    """The non-indexed arguments, ABI-encoded."""

    block_number: int
    tx_hash: str
    """0x-prefixed transaction hash."""

    log_index: int
    """Position of the log in its block."""

    timestamp: int | None = None
    """The block's Unix time when the node includes it (`blockTimestamp`, anvil and recent geth do)."""


@dataclass(frozen=True)
class Transaction:
    """The part of a transaction the activity reader shows."""

    hash: str
    sender: str
    to: str | None
    """None for a contract creation."""

    value: int
    """Wei sent."""


@dataclass(frozen=True)
class Block:
    """A block's number, time and (when asked for) its transactions."""

    number: int
    timestamp: int
    """Unix time (seconds)."""

    transactions: tuple[Transaction, ...] = ()


class ChainClient(Protocol):
    """What the flows ask of a chain."""

    def code_at(self, chain_id: int, address: str) -> bytes:
        """The contract code at `address` (empty for an EOA; an EIP-7702 delegation counts as code).

        Raises:
            ValueError: `address` is not a 20-byte hex address.
            ChainUnavailable: the chain is not configured or did not answer.
        """
        ...

    def is_valid_signature(self, chain_id: int, address: str, digest: bytes, signature: bytes) -> bool:
        """Whether the contract at `address` accepts `signature` over the 32-byte `digest` (EIP-1271).

        False when the contract says no: a revert, no code, any answer but the magic value.

        Raises:
            ValueError: `digest` is not 32 bytes (a caller bug).
            ChainUnavailable: the chain is not configured or did not answer.
        """
        ...

    def call(self, chain_id: int, to: str, data: bytes) -> bytes:
        """`eth_call` of `data` on the contract `to` at the latest block: the bytes it returned.

        Empty when `to` has no code (nothing ran). Raises ChainRefused on a revert.
        """
        ...

    def block_number(self, chain_id: int) -> int:
        """The latest block number (`eth_blockNumber`)."""
        ...

    def get_logs(self, chain_id: int, params: Mapping[str, Any]) -> list[Log]:
        """`eth_getLogs` with `params` (`fromBlock`/`toBlock` as ints, `address`, `topics` as 0x hex).

        Raises ChainRefused when the endpoint refuses the query (e.g. a range beyond its cap).
        """
        ...

    def get_blocks(self, chain_id: int, numbers: Sequence[int], full_transactions: bool) -> list[Block]:
        """The blocks `numbers`, in that order, read in JSON-RPC batches of `BLOCK_BATCH`.

        Raises:
            ValueError: a negative block number (a caller bug).
            ChainUnavailable: the chain did not answer, or a block asked for does not exist.
        """
        ...


@dataclass
class _Connection:
    url: str
    timeout: float
    web3: Web3
    chain_checked: bool = False


class Web3ChainClient:
    """A `ChainClient` over JSON-RPC with one cached Web3 provider per chain id; thread-safe.

    web3.py's HTTPProvider keeps one HTTP session per thread, so one provider
    serves every worker thread. A provider is rebuilt only when the chain's URL
    or the timeout in settings changes. Its first use checks that the endpoint
    serves the chain id it is configured for.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._connections: dict[int, _Connection] = {}

    def code_at(self, chain_id: int, address: str) -> bytes:
        """See `ChainClient.code_at`."""
        if not Web3.is_address(address):
            raise ValueError(f"not an address: {address!r}")
        checksummed = Web3.to_checksum_address(address)
        return bytes(self._rpc(chain_id, lambda w3: w3.eth.get_code(checksummed)))

    def is_valid_signature(self, chain_id: int, address: str, digest: bytes, signature: bytes) -> bool:
        """See `ChainClient.is_valid_signature`."""
        if len(digest) != 32:
            raise ValueError("digest must be 32 bytes")
        if not Web3.is_address(address):
            return False
        call = {
            "to": Web3.to_checksum_address(address),
            # The magic value is the selector of isValidSignature(bytes32,bytes).
            "data": MAGIC_VALUE + abi_encode(["bytes32", "bytes"], [bytes(digest), bytes(signature)]),
        }
        try:
            answer = bytes(self._rpc(chain_id, lambda w3: w3.eth.call(call), reverts=True))
        except ContractLogicError:  # the contract reverted: it does not accept the signature
            return False
        # As OpenZeppelin's SignatureChecker: at least one word, and that word is the magic value.
        return len(answer) >= 32 and answer[:32] == _MAGIC_WORD

    def call(self, chain_id: int, to: str, data: bytes) -> bytes:
        """See `ChainClient.call`."""
        if not Web3.is_address(to):
            raise ValueError(f"not an address: {to!r}")
        # Straight to the provider: web3's request and result formatters cost more than a local round trip,
        # and the home page's refresh is one of these per chain.
        params = [{"to": to.lower(), "data": "0x" + bytes(data).hex()}, "latest"]

        def request(w3: Web3) -> bytes:
            response = w3.provider.make_request(RPCEndpoint("eth_call"), params)
            if "error" in response:  # a revert, or any refusal
                raise ChainRefused(f"chain {chain_id} answered with an error")
            result = response.get("result")
            if not isinstance(result, str) or not result.startswith("0x"):
                raise ChainUnavailable(f"chain {chain_id} answered something else than call data")
            return bytes.fromhex(result[2:])

        return self._rpc(chain_id, request)

    def block_number(self, chain_id: int) -> int:
        """See `ChainClient.block_number`."""
        return int(self._rpc(chain_id, lambda w3: w3.eth.block_number))

    def get_logs(self, chain_id: int, params: Mapping[str, Any]) -> list[Log]:
        """See `ChainClient.get_logs`."""
        # Read inside `_rpc`: an answer that is not well formed is this chain's failure, never the page's.
        return self._rpc(chain_id, lambda w3: [_log(raw) for raw in w3.eth.get_logs(dict(params))])

    def get_blocks(self, chain_id: int, numbers: Sequence[int], full_transactions: bool) -> list[Block]:
        """See `ChainClient.get_blocks`."""
        blocks: list[Block] = []
        if any(number < 0 for number in numbers):
            raise ValueError("block numbers are never negative")
        for start in range(0, len(numbers), BLOCK_BATCH):
            part = numbers[start : start + BLOCK_BATCH]

            def batch(w3: Web3, part: Sequence[int] = part) -> list[Any]:
                with w3.batch_requests() as requests_:
                    for number in part:
                        requests_.add(w3.eth.get_block(number, full_transactions))
                    return [_block(raw, full_transactions) for raw in requests_.execute()]

            blocks.extend(self._rpc(chain_id, batch))
        return blocks

    def _connection(self, chain_id: int) -> _Connection:
        """The cached connection of `chain_id` (built on first use; not yet checked against the endpoint).

        Raises:
            ChainUnavailable: the settings name no RPC URL for `chain_id`.
        """
        url = self._settings.allowed_chains.get(chain_id)
        if not url:
            raise ChainUnavailable(f"chain {chain_id} is not configured")
        timeout = self._settings.chain_rpc_timeout.total_seconds()
        with self._lock:
            connection = self._connections.get(chain_id)
            if connection is None or connection.url != url or connection.timeout != timeout:
                provider = HTTPProvider(url, request_kwargs={"timeout": timeout}, exception_retry_configuration=None)
                # No middleware: the default validation middleware asks eth_chainId before every eth_call.
                connection = _Connection(url, timeout, Web3(provider, middleware=[]))
                self._connections[chain_id] = connection
        return connection

    def _rpc(self, chain_id: int, request: Callable[[Web3], T], *, reverts: bool = False) -> T:
        """Run `request` on the chain's Web3; any failure but a revert (when `reverts`) is ChainUnavailable."""
        connection = self._connection(chain_id)
        try:
            if not connection.chain_checked:
                served = connection.web3.eth.chain_id
                if served != chain_id:
                    raise ChainUnavailable(f"the endpoint of chain {chain_id} serves chain {served}")
                connection.chain_checked = True
            return request(connection.web3)
        except ChainUnavailable:
            raise
        except ContractLogicError:
            if reverts:
                raise
            raise ChainRefused(f"chain {chain_id} answered with an error") from None
        except (Web3RPCError, requests.HTTPError) as error:  # it answered, and said no
            raise ChainRefused(f"chain {chain_id} refused the request ({type(error).__name__})") from None
        except Exception as error:  # transport, HTTP status, JSON and RPC errors alike
            # `from None`: the underlying error's text names the URL, which may hold an API key.
            raise ChainUnavailable(f"chain {chain_id} did not answer ({type(error).__name__})") from None


def _quantity(value: Any) -> int | None:
    """An int from a JSON-RPC quantity (0x hex or already an int); None when absent."""
    if value is None:
        return None
    return int(value, 16) if isinstance(value, str) else int(value)


def _log(raw: Any) -> Log:
    """A `Log` from web3's formatted log (KeyError, TypeError or ValueError when it is not well formed)."""
    return Log(
        address=Web3.to_checksum_address(raw["address"]),
        topics=tuple(bytes(topic) for topic in raw["topics"]),
        data=bytes(raw["data"]),
        block_number=int(raw["blockNumber"]),
        tx_hash=HexBytes(raw["transactionHash"]).to_0x_hex(),
        log_index=int(raw["logIndex"]),
        timestamp=_quantity(raw.get("blockTimestamp")),
    )


def _block(raw: Any, full_transactions: bool) -> Block:
    """A `Block` from web3's formatted block (transactions only when they came in full)."""
    if raw is None:
        raise ChainUnavailable("a block asked for is missing")
    transactions = ()
    if full_transactions:
        transactions = tuple(
            Transaction(
                hash=HexBytes(tx["hash"]).to_0x_hex(),
                sender=Web3.to_checksum_address(tx["from"]),
                to=Web3.to_checksum_address(tx["to"]) if tx.get("to") else None,
                value=int(tx["value"]),
            )
            for tx in raw["transactions"]
        )
    return Block(number=int(raw["number"]), timestamp=int(raw["timestamp"]), transactions=transactions)
