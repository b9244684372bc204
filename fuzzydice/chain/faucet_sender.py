"""Sending the demo faucet's test funds: a small protocol and its implementation on the local anvil chains.

The faucet flow (`fuzzydice.funding.faucet`) decides who gets what; a `FaucetSender`
only moves coins. `AnvilFaucetSender` sends from `DEMO_DEPLOYER`, which holds the test
tokens' supply and has no key: anvil impersonates it (`anvil_impersonateAccount`) and
`eth_sendTransaction` leaves the nonce to the node. Anvil hands the same nonce to two
requests that arrive together (the second is refused as an underpriced replacement, or
replaces the first, whose hash then never mines), so one grant at a time sends on a
chain: a lock file per chain and source, held by every thread and worker process of the
host (the demo chains run on 127.0.0.1). A send refused as a nonce clash all the same
(someone else sending from the account) is tried again a few times. Synchronous and
bounded (each request by `chain_rpc_timeout`, the lock and the receipts by
`faucet_send_timeout`): the UI calls it through `asyncio.to_thread`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from eth_abi import encode as abi_encode
from web3 import HTTPProvider, Web3
from web3.exceptions import Web3Exception, Web3RPCError

from fuzzydice.chain.networks import DEMO_DEPLOYER, Network

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no lock between processes
    fcntl = None

TRANSFER_SELECTOR = bytes.fromhex("a9059cbb")
"""ERC-20 `transfer(address,uint256)`."""

RECEIPT_POLL = 0.05
"""Seconds between receipt polls (anvil mines each transaction at once)."""

SEND_TRIES = 5
"""Tries of one transfer whose nonce another sender took at the same moment."""

_NONCE_CLASH = ("underpriced", "nonce too low")
"""Words of the node's answer when two sends got the same nonce."""


class FaucetSendError(RuntimeError):
    """The chain did not take or mine a transfer (unreachable, wrong chain, refused, reverted, too slow).

    The message never holds the RPC URL (it may carry an API key).
    """


LOCK_POLL = 0.01
"""Seconds between tries of a lock another grant holds."""


def lock_path(rpc_url: str, source: str) -> Path:
    """The lock file of the sends from `source` on the chain at `rpc_url` (named by a hash: URLs may hold keys)."""
    digest = hashlib.sha256(f"{rpc_url}|{source}".encode()).hexdigest()[:24]
    return Path(tempfile.gettempdir()) / f"fuzzydice-faucet-{digest}.lock"


@contextlib.contextmanager
def sending_alone(rpc_url: str, source: str, *, timeout: float) -> Iterator[None]:
    """Hold the chain's send lock (every thread and process of this host), waiting at most `timeout` s for it.

    Each holder opens the file itself: `flock` locks belong to an open file, so threads
    exclude each other as processes do.

    Raises:
        FaucetSendError: another grant held it all that time.
    """
    if fcntl is None:  # pragma: no cover
        yield
        return
    # Read-only is enough for flock, and opens a lock file another local user created (0o644).
    descriptor = os.open(lock_path(rpc_url, source), os.O_RDONLY | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise FaucetSendError("the faucet is busy on this chain") from None
                time.sleep(LOCK_POLL)
        yield
    finally:
        os.close(descriptor)  # releases the lock


@dataclass(frozen=True)
class Payment:
    """One transfer to make: `amount` base units of the native coin (`token` None) or of the ERC-20 at `token`."""

    symbol: str
    amount: int
    token: str | None = None


class FaucetSender(Protocol):
    """What the faucet asks of a chain."""

    def send(self, network: Network, to: str, payments: Sequence[Payment], *, timeout: float) -> list[str]:
        """Send every payment to `to` on `network` and wait until each is mined (at most `timeout` s overall).

        Returns the transaction hashes (0x hex), in the order of `payments`.

        Raises:
            FaucetSendError: any payment was not sent or not mined successfully in time.
        """
        ...


def transfer_data(to: str, amount: int) -> bytes:
    """The calldata of ERC-20 `transfer(to, amount)`."""
    return TRANSFER_SELECTOR + abi_encode(["address", "uint256"], [Web3.to_checksum_address(to), amount])


class AnvilFaucetSender:
    """A `FaucetSender` for the local anvil chains: `DEMO_DEPLOYER`, impersonated, pays."""

    def __init__(self, *, rpc_timeout: float = 5.0, source: str = DEMO_DEPLOYER) -> None:
        self._rpc_timeout = rpc_timeout
        self._source = Web3.to_checksum_address(source)

    def send(self, network: Network, to: str, payments: Sequence[Payment], *, timeout: float) -> list[str]:
        """See `FaucetSender.send`."""
        if not network.rpc_url:
            raise FaucetSendError(f"{network.name} has no RPC URL")
        recipient = Web3.to_checksum_address(to)
        w3 = Web3(HTTPProvider(network.rpc_url, request_kwargs={"timeout": self._rpc_timeout}))
        try:
            answered = w3.eth.chain_id
            if answered != network.chain_id:
                raise FaucetSendError(f"the endpoint of {network.name} serves chain {answered}")
            self._impersonate(w3)
            with sending_alone(network.rpc_url, self._source, timeout=timeout):
                hashes = [self._send(w3, self._transaction(recipient, payment)) for payment in payments]
            self._wait_for_receipts(w3, hashes, network, timeout)
        except (OSError, ValueError, Web3Exception) as error:  # requests' errors are OSErrors
            raise FaucetSendError(f"could not send on {network.name}: {type(error).__name__}") from None
        return [tx_hash.to_0x_hex() for tx_hash in hashes]

    def _impersonate(self, w3: Web3) -> None:
        response = w3.provider.make_request("anvil_impersonateAccount", [self._source])
        if response.get("error"):
            raise FaucetSendError("the node does not impersonate the faucet account (not anvil?)")

    @staticmethod
    def _send(w3: Web3, transaction: dict):
        """`eth_sendTransaction`, tried again when the node gave its nonce to another send at the same moment."""
        for attempt in range(SEND_TRIES):
            try:
                return w3.eth.send_transaction(transaction)
            except Web3RPCError as error:
                if attempt + 1 == SEND_TRIES or not any(word in str(error).lower() for word in _NONCE_CLASH):
                    raise
                time.sleep(0.01 * (attempt + 1))
        raise AssertionError("unreachable")

    def _transaction(self, to: str, payment: Payment) -> dict:
        if payment.token is None:
            return {"from": self._source, "to": to, "value": payment.amount}
        return {"from": self._source, "to": Web3.to_checksum_address(payment.token), "data": transfer_data(to, payment.amount)}

    @staticmethod
    def _wait_for_receipts(w3: Web3, hashes: list, network: Network, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for tx_hash in hashes:
            left = deadline - time.monotonic()
            if left <= 0:
                raise FaucetSendError(f"transfers on {network.name} not mined within {timeout:.0f} s")
            receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=left, poll_latency=RECEIPT_POLL)
            if receipt["status"] != 1:
                raise FaucetSendError(f"a transfer on {network.name} reverted")
