"""Helpers for tests and the demo: deploy the TestWallet contract on a dev chain.

The artifact `contracts/build/TestWallet.json` is committed (built by
`node contracts/build.mjs`), so deploying needs no compiler.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from eth_account import Account
from web3 import HTTPProvider, Web3

ROOT = Path(__file__).resolve().parents[2]
TEST_WALLET_ARTIFACT = ROOT / "contracts" / "build" / "TestWallet.json"

# Anvil's first default account (mnemonic "test test ... junk"); public knowledge, dev chains only.
ANVIL_DEFAULT_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
RECEIPT_TIMEOUT = 10.0  # seconds; anvil mines each transaction at once


@lru_cache(maxsize=None)
def load_test_wallet_artifact() -> dict[str, Any]:
    """The committed TestWallet artifact: `abi` and 0x-prefixed `bytecode`."""
    return json.loads(TEST_WALLET_ARTIFACT.read_text())


def deploy_test_wallet(rpc_url: str, owner_address: str, deployer_private_key: str | None = None) -> str:
    """Deploy a TestWallet owned by `owner_address`; return the contract's checksum address.

    Args:
        rpc_url: a dev chain's JSON-RPC endpoint (anvil).
        owner_address: the EOA whose ECDSA signatures the wallet accepts.
        deployer_private_key: signs the deployment locally; None sends it from the node's
            first unlocked account (`eth_accounts`, anvil's default).

    Raises:
        RuntimeError: the deployment failed or left no code.
    """
    artifact = load_test_wallet_artifact()
    w3 = Web3(HTTPProvider(rpc_url, request_kwargs={"timeout": RECEIPT_TIMEOUT}))
    factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    constructor = factory.constructor(Web3.to_checksum_address(owner_address))
    if deployer_private_key is None:
        tx_hash = constructor.transact({"from": w3.eth.accounts[0]})
    else:
        deployer = Account.from_key(deployer_private_key)
        tx = constructor.build_transaction(
            {"from": deployer.address, "nonce": w3.eth.get_transaction_count(deployer.address, "pending")}
        )
        tx_hash = w3.eth.send_raw_transaction(deployer.sign_transaction(tx).raw_transaction)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=RECEIPT_TIMEOUT, poll_latency=0.05)
    address = receipt["contractAddress"]
    if receipt["status"] != 1 or not address or not w3.eth.get_code(address):
        raise RuntimeError(f"TestWallet deployment failed: {dict(receipt)}")
    return Web3.to_checksum_address(address)
