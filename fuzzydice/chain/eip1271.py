"""EIP-1271: ask a contract wallet whether it accepts a signature.

A contract account cannot sign; it answers `isValidSignature(hash, signature)`
with the magic value 0x1626ba7e when it accepts. Callers first try ECDSA
recovery (an EOA) and come here only when that fails and the address has code.

Synchronous (web3.py over HTTP): call it in a thread from async code. web3.py
retries eth_call and eth_getCode up to 5 times by default; retries are switched
off here so `timeout` bounds the whole call.
"""

from __future__ import annotations

from typing import Any

from web3 import HTTPProvider, Web3

MAGIC_VALUE = bytes.fromhex("1626ba7e")

IS_VALID_SIGNATURE_ABI: list[dict[str, Any]] = [
    {
        "type": "function",
        "name": "isValidSignature",
        "stateMutability": "view",
        "inputs": [{"name": "hash", "type": "bytes32"}, {"name": "signature", "type": "bytes"}],
        "outputs": [{"name": "magicValue", "type": "bytes4"}],
    }
]


class ChainUnavailable(RuntimeError):
    """The RPC endpoint did not answer (connection refused, timeout, error reply)."""


def _web3(rpc_url: str, timeout: float) -> Web3:
    provider = HTTPProvider(rpc_url, request_kwargs={"timeout": timeout}, exception_retry_configuration=None)
    return Web3(provider)


def has_code(rpc_url: str, address: str, timeout: float = 5) -> bool:
    """Whether `address` holds contract code at the latest block (an EIP-7702 delegation counts).

    Raises:
        ValueError: `address` is not a 20-byte hex address.
        ChainUnavailable: the endpoint did not answer within `timeout` seconds or answered an error.
    """
    if not Web3.is_address(address):
        raise ValueError(f"not an address: {address!r}")
    try:
        code = _web3(rpc_url, timeout).eth.get_code(Web3.to_checksum_address(address))
    except Exception as error:  # requests, web3 and JSON errors alike
        raise ChainUnavailable(f"eth_getCode at {rpc_url} failed: {error}") from error
    return len(code) > 0


def is_valid_signature(
    rpc_url: str, address: str, message_hash: bytes, signature: bytes, timeout: float = 5
) -> bool:
    """Whether the contract at `address` accepts `signature` over `message_hash` (EIP-1271).

    Fails closed: a revert, an address without code, a reply other than exactly
    the magic value, a malformed address, an unreachable endpoint or a timeout
    all give False.

    Args:
        rpc_url: the chain's JSON-RPC HTTP endpoint.
        address: the contract wallet.
        message_hash: the 32-byte hash the wallet is asked about (e.g. the EIP-191 hash of a SIWE message).
        signature: the signature bytes, passed through as the wallet defines them.
        timeout: seconds for the single HTTP request.

    Raises:
        ValueError: `message_hash` is not 32 bytes (a caller bug, not an attacker's input).
    """
    if len(message_hash) != 32:
        raise ValueError("message_hash must be 32 bytes")
    try:
        contract = _web3(rpc_url, timeout).eth.contract(
            address=Web3.to_checksum_address(address), abi=IS_VALID_SIGNATURE_ABI
        )
        answer = contract.functions.isValidSignature(bytes(message_hash), bytes(signature)).call()
    except Exception:  # revert, empty reply (no code), decode error, transport error, bad address
        return False
    return bytes(answer) == MAGIC_VALUE
