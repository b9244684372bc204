"""Fixtures of the chain tests: real anvil processes, started and stopped by PID."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fuzzydice.chain.devchain import DevChain, DevChainError, anvil_binary, start_anvil


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

