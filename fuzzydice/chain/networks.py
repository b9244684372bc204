"""The chains Fuzzy Dice knows: names, RPC and explorer URLs, tokens and the multicall contract.

Reflex-free and typed. Settings hold two lists of `Network` (`networks`: the production
chains, shipped without RPC URLs; `demo_networks`: the two local anvil chains of demo
mode) and `chains` (RPC URLs by chain id, set by the operator). `Settings.active_networks`
is what is in force: nothing calls the internet unless the operator sets RPC URLs.

The demo chains' test tokens are deployed by `fuzzydice.chain.demo_deploy` from one
deployer address at nonces 0, 1, 2, … (`DEMO_TOKENS` order), so their addresses are the
same on both local chains and known before deployment (`demo_token_address`).
"""

from __future__ import annotations

from typing import Literal

import rlp
from eth_utils import is_checksum_address, keccak, to_canonical_address, to_checksum_address
from pydantic import BaseModel, ConfigDict, Field, field_validator

MULTICALL3_ADDRESS = "0xcA11bde05977b3631167028862bE2a173976CA11"
"""Multicall3's canonical address (the same on every chain; github.com/mds1/multicall3)."""

UNLIMITED_ALLOWANCE = 2**256 - 1
"""`approve(spender, type(uint256).max)`: what wallets call an unlimited approval."""


def _checked_address(value: str) -> str:
    """An EIP-55 checksummed address, as given (a wrong mixed-case checksum is refused, never fixed)."""
    if not isinstance(value, str) or not is_checksum_address(value):
        raise ValueError(f"not an EIP-55 checksummed address: {value!r}")
    return value


class Token(BaseModel):
    """An ERC-20 token on one chain."""

    model_config = ConfigDict(frozen=True)

    address: str
    """The token contract (EIP-55 checksummed)."""

    symbol: str
    """Ticker shown to people (e.g. `USDC`)."""

    decimals: int = Field(ge=0, le=36)
    """The token's `decimals()`: balances are shown as raw / 10**decimals."""

    name: str = ""
    """Full name (e.g. `USD Coin`); the symbol is shown when empty."""

    @field_validator("address")
    @classmethod
    def _check_address(cls, value: str) -> str:
        return _checked_address(value)


class Network(BaseModel):
    """One chain as people meet it."""

    model_config = ConfigDict(frozen=True)

    chain_id: int = Field(gt=0)
    """EIP-155 chain id."""

    name: str
    """Network name in words (shown everywhere instead of the chain id)."""

    layer: Literal["L1", "L2"] = "L1"
    """Whether this is a layer-1 chain or a rollup on one (the home page groups by it)."""

    native_symbol: str = "ETH"
    """Symbol of the native currency."""

    native_decimals: int = Field(default=18, ge=0, le=36)
    """Decimals of the native currency."""

    rpc_url: str | None = None
    """JSON-RPC endpoint; None: not read at all (the operator sets one, or `chains` names one)."""

    explorer_url: str | None = None
    """Block explorer base URL (e.g. `https://etherscan.io`): links `…/tx/<hash>` and `…/address/<addr>`."""

    explorer_api_url: str | None = None
    """Etherscan-compatible API for native-transfer history (`?module=account&action=txlist`); None: not used."""

    tokens: tuple[Token, ...] = ()
    """The tokens whose balances, allowances and transfers are shown."""

    multicall: str = MULTICALL3_ADDRESS
    """A Multicall3-compatible contract (`aggregate3`, `getEthBalance`) on this chain."""

    testnet: bool = False
    """A test or local chain (its coins have no value; the faucet may serve it in demo mode)."""

    @field_validator("multicall")
    @classmethod
    def _check_multicall(cls, value: str) -> str:
        return _checked_address(value)

    def tx_link(self, tx_hash: str) -> str | None:
        """The explorer page of a transaction, when an explorer is configured."""
        return f"{self.explorer_url.rstrip('/')}/tx/{tx_hash}" if self.explorer_url else None

    def address_link(self, address: str) -> str | None:
        """The explorer page of an address, when an explorer is configured."""
        return f"{self.explorer_url.rstrip('/')}/address/{address}" if self.explorer_url else None

    def token(self, address: str) -> Token | None:
        """The configured token at `address` (any case), or None."""
        wanted = address.lower()
        return next((token for token in self.tokens if token.address.lower() == wanted), None)


def generic_network(chain_id: int, rpc_url: str | None = None) -> Network:
    """A chain the settings give an RPC URL but no description: named by its id, no tokens."""
    return Network(chain_id=chain_id, name=f"Chain {chain_id}", rpc_url=rpc_url)


# --- production defaults -------------------------------------------------------------------
# Addresses: each comment names where it was checked (address, and decimals where the source
# gives them); tests/chain/test_networks.py asserts every one is a valid EIP-55 address.
# "Uniswap list" = github.com/Uniswap/default-token-list build/uniswap-default.tokenlist.json
# (v12.14.0; L2 addresses from its bridgeInfo); "Superchain list" = the OP token list,
# github.com/ethereum-optimism/ethereum-optimism.github.io data/<SYMBOL>/data.json.
# Explorers and Multicall3 on all four chains: github.com/mds1/multicall3 deployments.json.
# No RPC URL is shipped: the operator sets them
# (FUZZYDICE_CHAINS='{"1": "https://…"}'), so a default deployment calls no chain at all.

ETHEREUM = Network(
    chain_id=1,
    name="Ethereum",
    explorer_url="https://etherscan.io",
    tokens=(
        # Uniswap list (chainId 1, 6 decimals); Superchain list data/USDC (ethereum)
        Token(address="0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", symbol="USDC", decimals=6, name="USD Coin"),
        # Uniswap list (chainId 1, 6 decimals); Superchain list data/USDT (ethereum)
        Token(address="0xdAC17F958D2ee523a2206206994597C13D831ec7", symbol="USDT", decimals=6, name="Tether USD"),
        # Uniswap list (chainId 1, "Dai Stablecoin", 18 decimals)
        Token(address="0x6B175474E89094C44Da98b954EedeAC495271d0F", symbol="DAI", decimals=18, name="Dai Stablecoin"),
        # Uniswap list (chainId 1, 18 decimals); docs.arbitrum.io contract addresses ("L1 Weth")
        Token(address="0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2", symbol="WETH", decimals=18, name="Wrapped Ether"),
    ),
)

OPTIMISM = Network(
    chain_id=10,
    name="OP Mainnet",
    layer="L2",
    explorer_url="https://optimistic.etherscan.io",
    tokens=(
        # Superchain list data/USDC (optimism, 6 decimals); Uniswap list USDC bridgeInfo "10"
        Token(address="0x0b2C639c533813f4Aa9D7837CAf62653d097Ff85", symbol="USDC", decimals=6, name="USD Coin"),
        # specs.optimism.io/protocol/predeploys.html (WETH9); Superchain list data/WETH (optimism)
        Token(address="0x4200000000000000000000000000000000000006", symbol="WETH", decimals=18, name="Wrapped Ether"),
        # specs.optimism.io/protocol/predeploys.html (GovernanceToken); Superchain list data/OP (18)
        Token(address="0x4200000000000000000000000000000000000042", symbol="OP", decimals=18, name="Optimism"),
    ),
)

ARBITRUM = Network(
    chain_id=42161,
    name="Arbitrum One",
    layer="L2",
    explorer_url="https://arbiscan.io",
    tokens=(
        # Uniswap list USDC bridgeInfo "42161" (native USDC, not bridged USDC.e 0xFF97…5CC8)
        Token(address="0xaf88d065e77c8cC2239327C5EDb3A432268e5831", symbol="USDC", decimals=6, name="USD Coin"),
        # docs.arbitrum.io/build-decentralized-apps/reference/contract-addresses ("L2 Weth", Arbitrum One)
        Token(address="0x82aF49447D8a07e3bd95BD0d56f35241523fBab1", symbol="WETH", decimals=18, name="Wrapped Ether"),
        # docs.arbitrum.foundation/deployment-addresses ("$ARB Token", Arb One); Uniswap list ARB bridgeInfo
        Token(address="0x912CE59144191C1204E64559FE8253a0e49E6548", symbol="ARB", decimals=18, name="Arbitrum"),
    ),
)

BASE = Network(
    chain_id=8453,
    name="Base",
    layer="L2",
    explorer_url="https://basescan.org",
    tokens=(
        # Superchain list data/USDC (base, 6 decimals); Uniswap list USDC bridgeInfo "8453"
        Token(address="0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", symbol="USDC", decimals=6, name="USD Coin"),
        # docs.base.org/chain/base-contracts (L2 WETH9, Base Mainnet); Superchain list data/WETH (base)
        Token(address="0x4200000000000000000000000000000000000006", symbol="WETH", decimals=18, name="Wrapped Ether"),
    ),
)

PRODUCTION_NETWORKS: tuple[Network, ...] = (ETHEREUM, OPTIMISM, ARBITRUM, BASE)
"""The shipped production chain descriptions (no RPC URLs)."""


# --- demo: two local anvil chains --------------------------------------------------------

DEMO_L1_CHAIN_ID = 31337
DEMO_L2_CHAIN_ID = 31338
DEMO_L1_PORT = 8545
DEMO_L2_PORT = 8546

DEMO_DEPLOYER = to_checksum_address(keccak(text="fuzzydice demo deployer")[12:])
"""Deploys the test tokens and serves the demo faucet on the local chains (anvil impersonates it:
no key exists). Holds every token's supply and ETH given by `anvil_setBalance`."""

DEMO_TOKENS: tuple[tuple[str, str, int], ...] = (
    ("DICE", "Fuzzy Dice Token", 18),
    ("fUSD", "Fuzzy USD", 6),
    ("fWETH", "Fuzzy Wrapped Ether", 18),
)
"""(symbol, name, decimals) of the demo test tokens, in deployment order (nonce 0, 1, 2)."""


def create_address(sender: str, nonce: int) -> str:
    """The address a CREATE from `sender` at `nonce` deploys to: keccak(rlp([sender, nonce]))[12:]."""
    return to_checksum_address(keccak(rlp.encode([to_canonical_address(sender), nonce]))[12:])


def demo_token_address(index: int) -> str:
    """The address of the `index`-th demo token: CREATE from `DEMO_DEPLOYER` at nonce `index`."""
    return create_address(DEMO_DEPLOYER, index)


def demo_tokens() -> tuple[Token, ...]:
    """The demo test tokens (the same addresses on both local chains)."""
    return tuple(
        Token(address=demo_token_address(i), symbol=symbol, decimals=decimals, name=name)
        for i, (symbol, name, decimals) in enumerate(DEMO_TOKENS)
    )


DEMO_NETWORKS: tuple[Network, ...] = (
    Network(
        chain_id=DEMO_L1_CHAIN_ID,
        name="Local Ethereum (anvil)",
        rpc_url=f"http://127.0.0.1:{DEMO_L1_PORT}",
        tokens=demo_tokens(),
        testnet=True,
    ),
    Network(
        chain_id=DEMO_L2_CHAIN_ID,
        name="Local L2 (anvil)",
        layer="L2",
        rpc_url=f"http://127.0.0.1:{DEMO_L2_PORT}",
        tokens=demo_tokens(),
        testnet=True,
    ),
)
"""The local chains `make run` / `make dev` start (scripts/with-devchain.sh) and the deploy step fills."""


def resolve_networks(
    *, chains: dict[int, str], described: tuple[Network, ...], fallback: tuple[Network, ...]
) -> tuple[Network, ...]:
    """The networks in force.

    `chains` (RPC URL by chain id), when not empty, is the whole list: each chain takes its
    description from `described` (first match) or a generic one, with the URL from `chains`.
    Otherwise the `fallback` networks that carry an RPC URL are in force.
    """
    if chains:
        by_id: dict[int, Network] = {}
        for network in described:
            by_id.setdefault(network.chain_id, network)
        return tuple(
            (by_id.get(chain_id) or generic_network(chain_id)).model_copy(update={"rpc_url": url})
            for chain_id, url in chains.items()
        )
    return tuple(network for network in fallback if network.rpc_url)
