"""Fixtures of the chain tests: real anvil processes, started and stopped by PID."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from fuzzydice.chain.devchain import DevChain, DevChainError, anvil_binary, start_anvil
from fuzzydice.chain.testing import deploy_test_wallet


@pytest.fixture(scope="session")
def anvil() -> Iterator[DevChain]:
    """One anvil (chain id 31337) on a free loopback port for the whole session."""
    try:
        anvil_binary()
    except DevChainError as error:  # bootstrap installs it; a clear failure beats a skip in CI
        pytest.fail(str(error))
    chain = start_anvil(chain_id=31337)
    try:
        yield chain
    finally:
        chain.stop()


@pytest.fixture(scope="session")
def wallet_owner() -> LocalAccount:
    """The EOA that owns the session's TestWallet."""
    return Account.create()


@pytest.fixture(scope="session")
def test_wallet(anvil: DevChain, wallet_owner: LocalAccount) -> str:
    """A TestWallet deployed on the session's anvil, owned by `wallet_owner`."""
    return deploy_test_wallet(anvil.url, wallet_owner.address)


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """A server that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.1)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=2)
        for conn in accepted:
            conn.close()
        listener.close()
