"""Reading chains behind one small protocol: code at an address, EIP-1271 signature checks.

Synchronous (web3.py over HTTP): callers on the event loop use `asyncio.to_thread`.
The chain allow-list and its RPC URLs come from settings (`allowed_chains`); a
chain the settings do not name, an endpoint that does not answer within
`chain_rpc_timeout` (no retries), or an endpoint serving another chain id all
raise `ChainUnavailable`. RPC URLs may carry an API key: they are never put in
an error message or a log line.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from eth_abi import encode as abi_encode
from web3 import HTTPProvider, Web3
from web3.exceptions import ContractLogicError

from fuzzydice.chain.eip1271 import MAGIC_VALUE, ChainUnavailable
from fuzzydice.settings import Settings

T = TypeVar("T")

_MAGIC_WORD = MAGIC_VALUE.ljust(32, b"\0")


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
            raise ChainUnavailable(f"chain {chain_id} answered with an error") from None
        except Exception as error:  # transport, HTTP status, JSON and RPC errors alike
            # `from None`: the underlying error's text names the URL, which may hold an API key.
            raise ChainUnavailable(f"chain {chain_id} did not answer ({type(error).__name__})") from None
