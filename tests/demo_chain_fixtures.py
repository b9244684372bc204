"""The two local demo chains for tests (registered for every folder by tests/conftest.py).

`demo_chains`: one anvil per demo network (L1 31337, L2 31338) on free loopback ports, deployed
by `fuzzydice.chain.demo_deploy` (test tokens at `demo_token_address(i)`, the multicall at its
canonical address), started once per session and stopped by PID. The chains are shared by every
test of the session: a test that moves funds asserts on differences, or uses its own addresses.

`demo_chain_settings`: {chain id: RPC URL} of those chains, to pass as `chains=` to the settings
(e.g. `make_settings(tmp_path, db_url, chains=demo_chain_settings)`): `active_networks` are then
the demo networks (with their tokens) at these URLs.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fuzzydice.chain.demo_deploy import start_demo_chains
from fuzzydice.chain.devchain import DevChain, DevChainError, anvil_binary


@pytest.fixture(scope="session")
def demo_chains() -> Iterator[list[DevChain]]:
    """The two demo chains, deployed, in `DEMO_NETWORKS` order (L1 first)."""
    try:
        anvil_binary()
    except DevChainError as error:  # bootstrap installs it; a clear failure beats a skip in CI
        pytest.fail(str(error))
    chains = start_demo_chains()
    try:
        yield chains
    finally:
        for chain in chains:
            chain.stop()


@pytest.fixture(scope="session")
def demo_chain_settings(demo_chains: list[DevChain]) -> dict[int, str]:
    """{chain id: RPC URL} of the session's demo chains: the `chains` setting that points at them."""
    return {chain.chain_id: chain.url for chain in demo_chains}
