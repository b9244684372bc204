"""Fixtures of the chain tests: real anvil processes, started and stopped by PID."""

from __future__ import annotations

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
