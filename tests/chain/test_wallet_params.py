"""`add_chain_params`: what a browser wallet is told to add a network (EIP-3085), and what it is never told."""

from __future__ import annotations

import json

import pytest

from fuzzydice.chain.networks import BASE, DEMO_NETWORKS, ETHEREUM, PRODUCTION_NETWORKS, Network, generic_network
from fuzzydice.chain.wallet_params import PUBLIC_RPC_URLS, add_chain_params, wallet_rpc_url

ETHER = {"name": "Ether", "symbol": "ETH", "decimals": 18}


def test_the_local_l1_is_offered_with_its_loopback_rpc_and_no_explorer():
    l1 = DEMO_NETWORKS[0]
    assert add_chain_params(l1) == {
        "chainId": "0x7a69",
        "chainName": "Local Ethereum (anvil)",
        "rpcUrls": ["http://127.0.0.1:8545"],
        "nativeCurrency": ETHER,
    }


def test_the_local_l2_has_its_own_id_name_and_port():
    params = add_chain_params(DEMO_NETWORKS[1])
    assert (params["chainId"], params["chainName"], params["rpcUrls"]) == ("0x7a6a", "Local L2 (anvil)", ["http://127.0.0.1:8546"])


def test_a_production_chain_gets_its_public_rpc_and_explorer():
    assert add_chain_params(BASE) == {
        "chainId": "0x2105",
        "chainName": "Base",
        "rpcUrls": ["https://mainnet.base.org"],
        "nativeCurrency": ETHER,
        "blockExplorerUrls": ["https://basescan.org"],
    }


def test_the_operators_rpc_url_never_reaches_a_wallet():
    """The operator's endpoint may carry an API key: every visitor's browser would receive it."""
    keyed = "https://base-mainnet.g.alchemy.com/v2/s3cr3t-key"
    params = add_chain_params(BASE.model_copy(update={"rpc_url": keyed}))
    assert params["rpcUrls"] == ["https://mainnet.base.org"]
    assert "s3cr3t" not in json.dumps(params)
    # A chain with no public endpoint of its own cannot be added at all (only switched to).
    assert add_chain_params(generic_network(11155111, f"https://sepolia.example/{keyed}")) is None


def test_ethereum_is_built_into_wallets_and_never_added():
    assert add_chain_params(ETHEREUM) is None


@pytest.mark.parametrize("url", ["http://localhost:8545", "http://[::1]:8545", "http://127.0.0.2:9000/rpc"])
def test_loopback_rpc_urls_are_offered(url):
    assert wallet_rpc_url(generic_network(999, url)) == url


@pytest.mark.parametrize("url", ["http://10.0.0.5:8545", "https://rpc.example.com", "http://127.0.0.1.example.com:8545"])
def test_other_rpc_urls_are_not(url):
    assert wallet_rpc_url(generic_network(999, url)) is None


def test_only_an_https_explorer_is_offered():
    """MetaMask refuses an add request whose explorer is not HTTPS."""
    local = Network(chain_id=999, name="Lab chain", rpc_url="http://127.0.0.1:8545", explorer_url="http://127.0.0.1:4000")
    assert "blockExplorerUrls" not in add_chain_params(local)
    trailing = local.model_copy(update={"explorer_url": "https://explorer.example/"})
    assert add_chain_params(trailing)["blockExplorerUrls"] == ["https://explorer.example"]


def test_another_native_currency_is_named_by_its_symbol():
    gnosis = Network(chain_id=100, name="Gnosis", native_symbol="XDAI", rpc_url="http://localhost:8545")
    assert add_chain_params(gnosis)["nativeCurrency"] == {"name": "XDAI", "symbol": "XDAI", "decimals": 18}


def test_every_public_rpc_url_is_https_for_a_shipped_chain():
    shipped = {network.chain_id for network in PRODUCTION_NETWORKS}
    assert PUBLIC_RPC_URLS and set(PUBLIC_RPC_URLS) <= shipped
    assert all(url.startswith("https://") for url in PUBLIC_RPC_URLS.values())
    # Every shipped L2 can be added; its parameters are plain JSON.
    for network in PRODUCTION_NETWORKS:
        if network.layer == "L2":
            assert json.loads(json.dumps(add_chain_params(network)))["chainName"] == network.name
