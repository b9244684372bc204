"""The wallet page's rows: the account's wallets with their QR codes, the networks in force with their
tokens, and the add-network answer in words (no Reflex)."""

from __future__ import annotations

from dataclasses import dataclass

from fuzzydice.chain.networks import Network, Token
from fuzzydice.chain.wallet_params import add_chain_params
from fuzzydice.mfa.qr import qr_svg_data_uri
from fuzzydice.settings import Settings
from fuzzydice.ui import wallet_scripts
from fuzzydice.wallet.addresses import short_address

DECLINED = "4001"
"""EIP-1193: the person said no in the wallet (a choice, not a fault)."""


@dataclass
class WalletRow:
    """One linked wallet."""

    address: str
    short: str
    qr: str
    alt: str


@dataclass
class TokenRow:
    """One token of a network's list."""

    symbol: str
    name: str
    address: str
    link: str
    """The explorer page of the token contract ("" without an explorer)."""


@dataclass
class NetworkRow:
    """One network in force and its tokens."""

    chain_id: int
    name: str
    layer: str
    native: str
    tokens: list[TokenRow]
    add_label: str
    """ "Add <name> to your wallet" ("" when the site cannot offer it: not demo mode, or no RPC URL to give)."""


def token_row(network: Network, token: Token) -> TokenRow:
    """A token for the list: its name (the symbol when it has none) and its explorer link when configured."""
    return TokenRow(
        symbol=token.symbol, name=token.name or token.symbol, address=token.address,
        link=network.address_link(token.address) or "",
    )


def network_rows(settings: Settings) -> list[NetworkRow]:
    """The networks in force with their tokens; the add button only in demo mode, for chains a wallet can be given."""
    return [
        NetworkRow(
            chain_id=network.chain_id,
            name=network.name,
            layer=network.layer,
            native=f"{network.native_symbol} (the network's own coin)",
            tokens=[token_row(network, token) for token in network.tokens],
            add_label=f"Add {network.name} to your wallet"
            if settings.is_demo and add_chain_params(network) is not None
            else "",
        )
        for network in settings.active_networks
    ]


def added_words(network: Network, result: dict) -> tuple[str, str]:
    """(status, error) for the add-network script's answer: {chainId} or {error, message}."""
    code = str(result.get("error", "") or "")
    if code:
        words = wallet_scripts.wallet_error_message(code, str(result.get("message", "") or ""))
        return (words, "") if code == DECLINED else ("", words)
    try:
        on = int(str(result.get("chainId", "")), 16)
    except ValueError:
        on = None
    if on == network.chain_id:
        return f"{network.name} is in your wallet, and your wallet is on it now.", ""
    return f"{network.name} was added to your wallet. Switch to it in your wallet to use it.", ""


def wallet_rows(addresses: list[str]) -> list[WalletRow]:
    """The wallets with the QR code of each address (sync: segno)."""
    return [
        WalletRow(address=a, short=short_address(a), qr=qr_svg_data_uri(a), alt=f"QR code of the address {short_address(a)}")
        for a in addresses
    ]
