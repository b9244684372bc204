"""Multicall3 `aggregate3`: many read calls in one `eth_call`, each allowed to fail on its own.

`aggregate3((address target, bool allowFailure, bytes callData)[])` returns
`(bool success, bytes returnData)[]`. Every call here allows failure, so one failing
sub-call gives None for that entry, never an exception. A code-less multicall address
"succeeds" with empty data (nothing ran): the answer's length is checked before decoding
and an answer that is not a well-formed result list of the right length raises
`MulticallError`, never garbage numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_utils import function_signature_to_4byte_selector, to_canonical_address

from fuzzydice.chain.client import ChainClient

AGGREGATE3 = function_signature_to_4byte_selector("aggregate3((address,bool,bytes)[])")
GET_ETH_BALANCE = function_signature_to_4byte_selector("getEthBalance(address)")
GET_BLOCK_NUMBER = function_signature_to_4byte_selector("getBlockNumber()")
BALANCE_OF = function_signature_to_4byte_selector("balanceOf(address)")
ALLOWANCE = function_signature_to_4byte_selector("allowance(address,address)")

_ARRAY_OFFSET = (32).to_bytes(32, "big")
_TRUE = (1).to_bytes(32, "big")
_DATA_OFFSET = (96).to_bytes(32, "big")  # callData follows the element's three head words


class MulticallError(Exception):
    """The multicall address answered something that is not an `aggregate3` answer (e.g. it has no code)."""


@dataclass(frozen=True)
class Call:
    """One sub-call: `data` sent to `target` (failure allowed)."""

    target: str
    data: bytes


def _address_word(address: str) -> bytes:
    """An address as one ABI word (validated hex, any case; no checksum hashing: this runs per sub-call)."""
    return bytes(12) + to_canonical_address(address)


def eth_balance(multicall: str, owner: str) -> Call:
    """The multicall's own `getEthBalance(owner)`: the native balance in wei."""
    return Call(multicall, GET_ETH_BALANCE + _address_word(owner))


def block_number(multicall: str) -> Call:
    """The multicall's own `getBlockNumber()`: the block the batch ran at."""
    return Call(multicall, GET_BLOCK_NUMBER)


def balance_of(token: str, owner: str) -> Call:
    """ERC-20 `balanceOf(owner)` on `token`."""
    return Call(token, BALANCE_OF + _address_word(owner))


def allowance(token: str, owner: str, spender: str) -> Call:
    """ERC-20 `allowance(owner, spender)` on `token`."""
    return Call(token, ALLOWANCE + _address_word(owner) + _address_word(spender))


def encode_aggregate3(calls: Sequence[Call]) -> bytes:
    """The calldata of `aggregate3(calls)` with every call allowed to fail.

    Laid out by hand (the same bytes as eth_abi's `encode`, which tests check, at a fraction of
    its cost): the array's offset and length, one offset per element, then each element's
    (target, allowFailure=true, offset of callData, its length, the data padded to whole words).
    """
    heads: list[bytes] = []
    tails: list[bytes] = []
    position = 32 * len(calls)
    for call in calls:
        data = bytes(call.data)
        padded = data + bytes(-len(data) % 32)
        element = _address_word(call.target) + _TRUE + _DATA_OFFSET + len(data).to_bytes(32, "big") + padded
        heads.append(position.to_bytes(32, "big"))
        tails.append(element)
        position += len(element)
    return AGGREGATE3 + _ARRAY_OFFSET + len(calls).to_bytes(32, "big") + b"".join(heads) + b"".join(tails)


def decode_aggregate3(answer: bytes, count: int) -> list[bytes | None]:
    """Each sub-call's return data from an `aggregate3` answer, None where it failed.

    Read by hand (eth_abi's `decode` costs more than the round trip on a local chain; tests check
    both agree): every offset and length is checked against the answer's size before use.

    Raises:
        MulticallError: `answer` is empty (no contract at the multicall address), not a
            result list, or holds another number of results than `count` calls.
    """
    answer = bytes(answer)
    size = len(answer)
    if not size:
        raise MulticallError("no multicall contract answered (empty result)")
    # The smallest valid answer is an offset word and a length word.
    if size < 64 or size % 32:
        raise MulticallError(f"the multicall answer is not a result list ({size} bytes)")

    def word(position: int) -> int:
        if position + 32 > size:
            raise MulticallError("the multicall answer is not a result list (points outside itself)")
        return int.from_bytes(answer[position : position + 32], "big")

    array = word(0)
    length = word(array)
    heads = array + 32
    if length > (size - heads) // 32:
        raise MulticallError("the multicall answer is not a result list (too many results for its size)")
    if length != count:
        raise MulticallError(f"the multicall answered {length} results for {count} calls")
    results: list[bytes | None] = []
    for index in range(length):
        element = heads + word(heads + 32 * index)
        success = word(element)
        if success > 1:
            raise MulticallError("the multicall answer is not a result list (a success flag is not a bool)")
        data = element + word(element + 32)
        data_size = word(data)
        if data_size > size - data - 32:
            raise MulticallError("the multicall answer is not a result list (data beyond its end)")
        results.append(answer[data + 32 : data + 32 + data_size] if success else None)
    return results


def aggregate3(client: ChainClient, chain_id: int, multicall: str, calls: Sequence[Call]) -> list[bytes | None]:
    """Run `calls` in one `eth_call` to `multicall`; each entry is the sub-call's data or None when it failed.

    Raises:
        ChainUnavailable: the chain did not answer (or refused the call).
        MulticallError: the answer is not an `aggregate3` answer (see `decode_aggregate3`).
    """
    if not calls:
        return []
    return decode_aggregate3(client.call(chain_id, multicall, encode_aggregate3(calls)), len(calls))


def uint(data: bytes | None) -> int | None:
    """A uint256 return value, or None when the call failed or returned no full word (e.g. a code-less target)."""
    if data is None or len(data) < 32:
        return None
    return int.from_bytes(data[:32], "big")
