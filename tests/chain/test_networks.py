"""The shipped chain descriptions: addresses well-formed and as verified, and which networks are in force.

The production addresses below were checked against the sources named in the comments of
`fuzzydice/chain/networks.py`; pinning them here makes any change to one a deliberate edit of both.
"""

from __future__ import annotations

import os

import pytest
from eth_utils import is_checksum_address
from pydantic import ValidationError

from fuzzydice.chain.networks import (
    ARBITRUM,
    BASE,
    DEMO_L1_CHAIN_ID,
    DEMO_L2_CHAIN_ID,
    DEMO_NETWORKS,
    ETHEREUM,
    MULTICALL3_ADDRESS,
    OPTIMISM,
    PRODUCTION_NETWORKS,
    Network,
    Token,
    demo_token_address,
)
from fuzzydice.chain.amounts import format_amount
from fuzzydice.settings import Settings

ALL_NETWORKS = (*PRODUCTION_NETWORKS, *DEMO_NETWORKS)

VERIFIED_TOKENS: dict[int, dict[str, tuple[str, int]]] = {
    1: {
        "USDC": ("0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", 6),
        "USDT": ("0xdAC17F958D2ee523a2206206994597C13D831ec7", 6),
        "DAI": ("0x6B175474E89094C44Da98b954EedeAC495271d0F", 18),
        "WETH": ("0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2", 18),
    },
    10: {
        "USDC": ("0x0b2C639c533813f4Aa9D7837CAf62653d097Ff85", 6),
        "WETH": ("0x4200000000000000000000000000000000000006", 18),
        "OP": ("0x4200000000000000000000000000000000000042", 18),
    },
    42161: {
        "USDC": ("0xaf88d065e77c8cC2239327C5EDb3A432268e5831", 6),
        "WETH": ("0x82aF49447D8a07e3bd95BD0d56f35241523fBab1", 18),
        "ARB": ("0x912CE59144191C1204E64559FE8253a0e49E6548", 18),
    },
    8453: {
        "USDC": ("0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", 6),
        "WETH": ("0x4200000000000000000000000000000000000006", 18),
    },
}
"""(address, decimals) by chain id and symbol, as verified (see the comments in networks.py)."""

VERIFIED_EXPLORERS = {
    1: "https://etherscan.io",
    10: "https://optimistic.etherscan.io",
    42161: "https://arbiscan.io",
    8453: "https://basescan.org",
}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No FUZZYDICE_* variable of the surrounding environment reaches `Settings()`."""
    for name in list(os.environ):
        if name.startswith("FUZZYDICE_"):
            monkeypatch.delenv(name)
    return monkeypatch


def _ids(networks: tuple[Network, ...]) -> list[int]:
    return [network.chain_id for network in networks]


def _flip_case(address: str) -> str:
    """The address with the case of its first letter swapped: a wrong EIP-55 checksum."""
    for i, char in enumerate(address[2:], start=2):
        if char.isalpha():
            return address[:i] + char.swapcase() + address[i + 1 :]
    raise AssertionError(f"no letter to flip in {address}")


# --- every shipped address ---------------------------------------------------------------


@pytest.mark.parametrize("network", ALL_NETWORKS, ids=lambda n: n.name)
def test_every_shipped_address_is_eip55_checksummed(network: Network) -> None:
    assert is_checksum_address(network.multicall), network.multicall
    assert network.tokens, f"{network.name} ships no tokens"
    for token in network.tokens:
        assert is_checksum_address(token.address), (network.name, token.symbol, token.address)


@pytest.mark.parametrize("network", ALL_NETWORKS, ids=lambda n: n.name)
def test_no_duplicate_symbol_or_address_within_a_network(network: Network) -> None:
    symbols = [token.symbol for token in network.tokens]
    addresses = [token.address.lower() for token in network.tokens]
    assert len(symbols) == len(set(symbols)), symbols
    assert len(addresses) == len(set(addresses)), addresses


def test_chain_ids_are_unique_across_shipped_networks() -> None:
    ids = _ids(ALL_NETWORKS)
    assert len(ids) == len(set(ids)), ids


def test_production_networks_are_the_four_verified_chains_without_rpc() -> None:
    assert _ids(PRODUCTION_NETWORKS) == [1, 10, 42161, 8453]
    assert [n.name for n in PRODUCTION_NETWORKS] == ["Ethereum", "OP Mainnet", "Arbitrum One", "Base"]
    assert [n.layer for n in PRODUCTION_NETWORKS] == ["L1", "L2", "L2", "L2"]
    for network in PRODUCTION_NETWORKS:
        assert network.rpc_url is None, f"{network.name} ships an RPC URL"
        assert not network.testnet
        assert network.multicall == MULTICALL3_ADDRESS


def test_multicall3_is_the_canonical_address() -> None:
    assert MULTICALL3_ADDRESS == "0xcA11bde05977b3631167028862bE2a173976CA11"


@pytest.mark.parametrize("network", PRODUCTION_NETWORKS, ids=lambda n: n.name)
def test_production_tokens_are_the_verified_ones(network: Network) -> None:
    shipped = {token.symbol: (token.address, token.decimals) for token in network.tokens}
    assert shipped == VERIFIED_TOKENS[network.chain_id]


@pytest.mark.parametrize("network", PRODUCTION_NETWORKS, ids=lambda n: n.name)
def test_usdc_has_six_decimals(network: Network) -> None:
    usdc = next(token for token in network.tokens if token.symbol == "USDC")
    assert usdc.decimals == 6
    assert format_amount(1_500_000, usdc.decimals, usdc.symbol) == "1.5 USDC"


@pytest.mark.parametrize("decimals", [-1, 37])
def test_a_native_coin_has_sane_decimals(decimals: int) -> None:
    with pytest.raises(ValueError):
        Network(chain_id=5, name="Odd", native_decimals=decimals)


@pytest.mark.parametrize("network", PRODUCTION_NETWORKS, ids=lambda n: n.name)
def test_production_explorers(network: Network) -> None:
    assert network.explorer_url == VERIFIED_EXPLORERS[network.chain_id]
    assert network.tx_link("0xabc") == f"{VERIFIED_EXPLORERS[network.chain_id]}/tx/0xabc"


def test_token_lookup_ignores_case() -> None:
    assert ETHEREUM.token("0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48").symbol == "USDC"
    assert BASE.token(ARBITRUM.tokens[0].address) is None


# --- the validators refuse what is not EIP-55 -------------------------------------------------


USDC_MAINNET = VERIFIED_TOKENS[1]["USDC"][0]


@pytest.mark.parametrize(
    "address",
    [
        USDC_MAINNET.lower(),
        "0x" + USDC_MAINNET[2:].upper(),
        _flip_case(USDC_MAINNET),
        USDC_MAINNET[:-1],
        "not an address",
    ],
    ids=["lowercase", "uppercase", "wrong-checksum", "too-short", "garbage"],
)
def test_token_refuses_an_address_not_in_eip55_form(address: str) -> None:
    with pytest.raises(ValidationError, match="EIP-55"):
        Token(address=address, symbol="USDC", decimals=6)


def test_network_refuses_a_multicall_not_in_eip55_form() -> None:
    with pytest.raises(ValidationError, match="EIP-55"):
        Network(chain_id=1, name="Ethereum", multicall=MULTICALL3_ADDRESS.lower())
    with pytest.raises(ValidationError, match="EIP-55"):
        Network(chain_id=1, name="Ethereum", multicall=_flip_case(MULTICALL3_ADDRESS))


def test_a_checksummed_address_is_kept_as_given() -> None:
    assert Token(address=USDC_MAINNET, symbol="USDC", decimals=6).address == USDC_MAINNET


# --- which networks are in force ---------------------------------------------------------------


def test_production_default_has_no_active_network(clean_env: pytest.MonkeyPatch) -> None:
    settings = Settings()
    assert settings.mode == "production"
    assert settings.active_networks == ()
    assert settings.allowed_chains == {}
    assert settings.network(1) is None


def test_production_with_an_rpc_url_gives_ethereum_with_its_tokens(clean_env: pytest.MonkeyPatch) -> None:
    settings = Settings(chains={1: "https://rpc.example"})
    (ethereum,) = settings.active_networks
    assert ethereum.chain_id == 1
    assert ethereum.name == "Ethereum"
    assert ethereum.rpc_url == "https://rpc.example"
    assert ethereum.tokens == ETHEREUM.tokens
    assert ethereum.explorer_url == "https://etherscan.io"
    assert settings.allowed_chains == {1: "https://rpc.example"}
    assert settings.network(1) == ethereum
    assert ETHEREUM.rpc_url is None, "the shipped description itself is left without a URL"


def test_chains_from_the_environment_json(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("FUZZYDICE_CHAINS", '{"10": "https://op.example", "8453": "https://base.example"}')
    settings = Settings()
    assert [(n.chain_id, n.name, n.rpc_url) for n in settings.active_networks] == [
        (10, "OP Mainnet", "https://op.example"),
        (8453, "Base", "https://base.example"),
    ]
    assert settings.network(10).tokens == OPTIMISM.tokens


def test_an_undescribed_chain_gets_a_generic_description(clean_env: pytest.MonkeyPatch) -> None:
    (network,) = Settings(chains={999: "https://other.example"}).active_networks
    assert (network.chain_id, network.name, network.tokens) == (999, "Chain 999", ())
    assert network.rpc_url == "https://other.example"
    assert network.multicall == MULTICALL3_ADDRESS


def test_demo_mode_gives_the_two_local_networks(clean_env: pytest.MonkeyPatch) -> None:
    settings = Settings(mode="demo")
    l1, l2 = settings.active_networks
    assert (l1.chain_id, l1.layer, l1.rpc_url) == (DEMO_L1_CHAIN_ID, "L1", "http://127.0.0.1:8545")
    assert (l2.chain_id, l2.layer, l2.rpc_url) == (DEMO_L2_CHAIN_ID, "L2", "http://127.0.0.1:8546")
    assert l1.testnet and l2.testnet
    assert [t.symbol for t in l1.tokens] == ["DICE", "fUSD", "fWETH"]
    assert l1.tokens == l2.tokens
    assert [t.address for t in l1.tokens] == [demo_token_address(i) for i in range(3)]
    assert settings.allowed_chains == {DEMO_L1_CHAIN_ID: "http://127.0.0.1:8545", DEMO_L2_CHAIN_ID: "http://127.0.0.1:8546"}


def test_demo_mode_with_chains_takes_only_those(clean_env: pytest.MonkeyPatch) -> None:
    settings = Settings(mode="demo", chains={DEMO_L2_CHAIN_ID: "http://127.0.0.1:9999"})
    (network,) = settings.active_networks
    assert (network.name, network.rpc_url) == ("Local L2 (anvil)", "http://127.0.0.1:9999")


# --- network names ---------------------------------------------------------------------------


def test_network_name_in_words(clean_env: pytest.MonkeyPatch) -> None:
    production = Settings()
    assert production.network_name(1) == "Ethereum"  # described, not in force
    assert production.network_name(10) == "OP Mainnet"
    assert production.network_name(42161) == "Arbitrum One"
    assert production.network_name(8453) == "Base"
    assert production.network_name(DEMO_L1_CHAIN_ID) == "Local Ethereum (anvil)"
    assert production.network_name(424242) == "chain 424242"

    demo = Settings(mode="demo")
    assert demo.network_name(DEMO_L2_CHAIN_ID) == "Local L2 (anvil)"
    assert demo.network_name(1) == "Ethereum"

    assert Settings(chains={999: "https://other.example"}).network_name(999) == "Chain 999"
