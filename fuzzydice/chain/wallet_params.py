"""What a browser wallet is told about a network: the `wallet_addEthereumChain` parameters (EIP-3085).

Reflex-free, so the sign-in's network switch and the wallet page's "Add this network to
your wallet" button build the same parameters.

The RPC URL handed to a wallet is public: every visitor's browser receives it. The
operator's `rpc_url` may carry an API key (`https://…/v2/<key>`), so it is offered only
when it points at this machine (the demo's local anvil chains); production chains offer
their operators' public endpoints (`PUBLIC_RPC_URLS`). A chain with neither cannot be
added by the site, only switched to.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from fuzzydice.chain.networks import Network

PUBLIC_RPC_URLS: dict[int, str] = {
    # alchemy.com/node-providers/optimism (the OP team's own endpoint for OP Mainnet; rate limited)
    10: "https://mainnet.optimism.io",
    # docs.arbitrum.io/node-running/node-providers ("Arbitrum public RPC endpoints", Arbitrum One)
    42161: "https://arb1.arbitrum.io/rpc",
    # github.com/base/skills connecting-to-base-network (Base Mainnet "RPC Endpoint"; rate limited)
    8453: "https://mainnet.base.org",
}
"""Public RPC endpoints run by each chain's own team, offered to wallets that do not know the chain.
Ethereum (1) is built into every wallet (MetaMask refuses to add it), so it has none."""

CURRENCY_NAMES = {"ETH": "Ether"}
"""The native currency's name by symbol; any other symbol is its own name."""


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def wallet_rpc_url(network: Network) -> str | None:
    """The RPC URL a wallet may be given for `network` (public by nature), or None."""
    if network.rpc_url and _is_loopback(network.rpc_url):
        return network.rpc_url
    return PUBLIC_RPC_URLS.get(network.chain_id)


def add_chain_params(network: Network) -> dict | None:
    """The `wallet_addEthereumChain` parameter object for `network`, or None when no RPC URL can be offered.

    chainId in hex, chainName, rpcUrls, nativeCurrency {name, symbol, decimals}, and
    blockExplorerUrls only when an HTTPS explorer is configured (wallets refuse others).
    """
    rpc_url = wallet_rpc_url(network)
    if rpc_url is None:
        return None
    params: dict = {
        "chainId": hex(network.chain_id),
        "chainName": network.name,
        "rpcUrls": [rpc_url],
        "nativeCurrency": {
            "name": CURRENCY_NAMES.get(network.native_symbol, network.native_symbol),
            "symbol": network.native_symbol,
            "decimals": network.native_decimals,
        },
    }
    if network.explorer_url and network.explorer_url.startswith("https://"):
        params["blockExplorerUrls"] = [network.explorer_url.rstrip("/")]
    return params
