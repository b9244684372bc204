"""EIP-681 payment requests: what a wallet scans to send funds to an address on a given chain.

`ethereum:<to>@<chainId>` asks for the native coin; `ethereum:<token>@<chainId>/transfer?address=<to>`
for an ERC-20 (the wallet lets the payer choose the amount: no `value` or `uint256` is set).
"""

from __future__ import annotations

from fuzzydice.chain.networks import Network, Token
from fuzzydice.wallet.addresses import checksum_address


def eip681_uri(network: Network, address: str, token: Token | None = None) -> str:
    """The EIP-681 URI that pays `address` on `network`: its native coin, or `token` when given.

    Raises:
        fuzzydice.wallet.addresses.AddressError: `address` is not an Ethereum address (or its checksum is wrong).
    """
    to = checksum_address(address)
    if token is None:
        return f"ethereum:{to}@{network.chain_id}"
    return f"ethereum:{checksum_address(token.address)}@{network.chain_id}/transfer?address={to}"
