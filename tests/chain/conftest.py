"""Fixtures of the chain tests: real anvil processes (started and stopped by PID), the client on them, a silent server."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from fuzzydice.chain.client import Web3ChainClient
from fuzzydice.chain.devchain import DevChain, DevChainError, anvil_binary, start_anvil
from fuzzydice.chain.testing import deploy_test_wallet
from fuzzydice.settings import Settings
from tests.conftest import make_settings, sqlite_url


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
def chain_settings(tmp_path: Path, anvil: DevChain) -> Settings:
    """Test-profile settings naming the session's anvil as the only chain (the database is never opened)."""
    return make_settings(tmp_path, sqlite_url(tmp_path / "unused.db"), chains={anvil.chain_id: anvil.url})


@pytest.fixture
def chain(chain_settings: Settings) -> Web3ChainClient:
    """The product's chain client on `chain_settings` (tests change the settings to move it)."""
    return Web3ChainClient(chain_settings)


@dataclass
class SilentEndpoint:
    """A listening socket that never answers: the kernel completes each TCP handshake, nobody replies."""

    url: str
    listener: socket.socket
    accepted: list[socket.socket] = field(default_factory=list)

    def connections(self) -> list[socket.socket]:
        """Every connection made to the endpoint so far (takes the new ones off the backlog; never waits)."""
        while True:
            try:
                self.accepted.append(self.listener.accept()[0])
            except BlockingIOError:
                return list(self.accepted)


@pytest.fixture
def silent_endpoint() -> Iterator[SilentEndpoint]:
    """A server that accepts connections and never answers; `connections()` counts them."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.setblocking(False)
    endpoint = SilentEndpoint(f"http://127.0.0.1:{listener.getsockname()[1]}", listener)
    try:
        yield endpoint
    finally:
        for conn in endpoint.accepted:
            conn.close()
        listener.close()


@pytest.fixture
def reader_settings(tmp_path: Path, demo_chain_settings: dict[int, str]) -> Settings:
    """Test-profile settings whose chains in force are the session's two demo chains (tokens, multicall deployed)."""
    return make_settings(tmp_path, sqlite_url(tmp_path / "unused.db"), chains=dict(demo_chain_settings))
