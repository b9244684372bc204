"""What the reader tests do on the demo chains: send ETH and tokens, approve, mine, as anvil lets any address send.

Everything goes through raw JSON-RPC on the node (`eth_sendTransaction` from impersonated
accounts; anvil mines each transaction at once), never through the code under test.
"""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

from eth_abi import encode
from eth_account import Account
from eth_utils import function_signature_to_4byte_selector

from fuzzydice.chain.networks import DEMO_DEPLOYER

TRANSFER = function_signature_to_4byte_selector("transfer(address,uint256)")
APPROVE = function_signature_to_4byte_selector("approve(address,uint256)")


def rpc(url: str, method: str, params: list[Any]) -> Any:
    """One JSON-RPC request; raises on an error answer."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        answer = json.loads(response.read())
    if "error" in answer:
        raise RuntimeError(f"{method}: {answer['error']}")
    return answer["result"]


def new_wallet(url: str | None = None, eth_wei: int = 0) -> str:
    """A fresh address (nobody else's activity); with `url`, impersonated there and given `eth_wei` for gas."""
    address = Account.create().address
    if url is not None:
        rpc(url, "anvil_impersonateAccount", [address])
        rpc(url, "anvil_setBalance", [address, hex(eth_wei)])
    return address


def send(url: str, sender: str, to: str, *, value: int = 0, data: bytes = b"") -> str:
    """A transaction from an impersonated `sender`, mined at once; its hash. Raises when it reverted."""
    tx = {"from": sender, "to": to, "value": hex(value)}
    if data:
        tx["data"] = "0x" + data.hex()
    tx_hash = rpc(url, "eth_sendTransaction", [tx])
    for _ in range(200):  # anvil mines at once; the receipt may take a moment to be served (bounded: ~4 s)
        receipt = rpc(url, "eth_getTransactionReceipt", [tx_hash])
        if receipt is not None:
            break
        time.sleep(0.02)
    assert receipt and int(receipt["status"], 16) == 1, receipt
    return tx_hash


def send_eth(url: str, to: str, wei: int, sender: str = DEMO_DEPLOYER) -> str:
    """Native transfer (the deployer is impersonated and funded by the deploy step)."""
    return send(url, sender, to, value=wei)


def send_token(url: str, token: str, to: str, amount: int, sender: str = DEMO_DEPLOYER) -> str:
    """ERC-20 `transfer` of `amount` base units."""
    return send(url, sender, token, data=TRANSFER + encode(["address", "uint256"], [to, amount]))


def approve(url: str, token: str, owner: str, spender: str, amount: int) -> str:
    """ERC-20 `approve` from an impersonated `owner`."""
    return send(url, owner, token, data=APPROVE + encode(["address", "uint256"], [spender, amount]))


def mine(url: str, blocks: int) -> int:
    """Mine `blocks` empty blocks; the new latest block number."""
    rpc(url, "anvil_mine", [hex(blocks)])
    return int(rpc(url, "eth_blockNumber", []), 16)


def latest_block(url: str) -> int:
    """The node's latest block number."""
    return int(rpc(url, "eth_blockNumber", []), 16)
