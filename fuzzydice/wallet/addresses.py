"""Ethereum addresses as people type them and as the app stores them (EIP-55)."""

from __future__ import annotations

import re

from eth_utils import is_checksum_address, to_checksum_address

_HEX_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


class AddressError(ValueError):
    """Not an Ethereum address; the message says why in plain words, `code` for machines."""

    def __init__(self, message: str, code: str = "address_invalid") -> None:
        super().__init__(message)
        self.code = code
        """`address_invalid` (not 0x + 40 hex digits) or `address_checksum` (a mixed-case typo)."""


def checksum_address(text: str) -> str:
    """The EIP-55 form of `text`.

    All-lowercase or all-uppercase hex is accepted; mixed case must carry a valid checksum.

    Raises:
        AddressError: not 0x plus 40 hex digits, or a mixed-case address whose checksum is wrong.
    """
    value = (text or "").strip()
    if not _HEX_ADDRESS.match(value):
        raise AddressError("An address is 0x followed by 40 hexadecimal digits.")
    digits = value[2:]
    if digits != digits.lower() and digits != digits.upper() and not is_checksum_address(value):
        raise AddressError(
            "The address has a wrong checksum (a typo in its upper/lower case letters).", "address_checksum"
        )
    return to_checksum_address(value)


def short_address(address: str) -> str:
    """`0x1234…abcd`, for display: the start (with `0x`) and the end; text already that short as it is."""
    if len(address) <= 11:
        return address
    return f"{address[:6]}…{address[-4:]}"
