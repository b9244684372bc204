"""The wallet page's rows: tokens per network with explorer links, the add-network button only in demo
mode, the wallet's answer in words, and each address's QR code (no browser)."""

from __future__ import annotations

from fuzzydice.chain.networks import DEMO_NETWORKS, demo_tokens
from fuzzydice.mfa.qr import qr_svg_data_uri
from fuzzydice.ui.wallet_rows import added_words, network_rows, wallet_rows


def test_demo_networks_list_their_tokens_and_offer_to_be_added(settings):
    rows = network_rows(settings)
    assert [(r.chain_id, r.name, r.layer, r.add_label) for r in rows] == [
        (n.chain_id, n.name, n.layer, f"Add {n.name} to your wallet") for n in DEMO_NETWORKS
    ]
    tokens = [(t.symbol, t.name, t.address, t.link) for t in rows[0].tokens]
    assert tokens == [(t.symbol, t.name, t.address, "") for t in demo_tokens()]  # no explorer on a local chain
    assert rows[0].native == "ETH (the network's own coin)"


def test_production_networks_link_tokens_to_the_explorer_and_are_not_added_by_the_site(settings):
    production = settings.model_copy(update={"mode": "production", "chains": {1: "https://rpc.example", 10: "https://op.example"}})
    rows = network_rows(production)
    assert [(r.name, r.add_label) for r in rows] == [("Ethereum", ""), ("OP Mainnet", "")]
    usdc = rows[0].tokens[0]
    assert (usdc.symbol, usdc.name) == ("USDC", "USD Coin")
    assert usdc.link == "https://etherscan.io/address/0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"


def test_the_wallets_answer_in_words():
    l2 = DEMO_NETWORKS[1]
    assert added_words(l2, {"chainId": "0x7a6a"}) == ("Local L2 (anvil) is in your wallet, and your wallet is on it now.", "")
    assert added_words(l2, {"chainId": "0x7a69"}) == (
        "Local L2 (anvil) was added to your wallet. Switch to it in your wallet to use it.", ""
    )
    # A cancelled prompt is the person's choice: said calmly, not as an error.
    assert added_words(l2, {"error": "4001", "message": "User rejected the request."}) == (
        "You declined the request in your wallet.", ""
    )
    status, error = added_words(l2, {"error": "-32602", "message": "Invalid chain parameters."})
    assert status == "" and error.startswith("Your wallet reported an error: Invalid chain parameters.")
    assert added_words(l2, {"error": "no_wallet"})[1].startswith("The wallet is no longer available")
    assert added_words(l2, {"chainId": "not hex"})[0].startswith("Local L2 (anvil) was added")


def test_each_wallet_has_its_address_qr():
    address = "0x" + "Ab" * 20
    (row,) = wallet_rows([address])
    assert (row.address, row.short, row.qr) == (address, "0xAbAb…AbAb", qr_svg_data_uri(address))
    assert row.alt == "QR code of the address 0xAbAb…AbAb"
