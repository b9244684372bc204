"""Signature recovery and full verification of EIP-4361 messages.

`verify_message` checks, in this order: the fields against the grammar
(``invalid_timestamp`` / ``invalid_message``), the expected domain (and scheme),
the nonce (exact equality), the URI, the chain id, the validity window, and
last the EIP-191 signature (with an optional EIP-1271 fallback for contract
wallets). Each failure raises its own `SiweVerificationError` subclass.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Collection
from datetime import datetime, timedelta

from eth_account import Account
from eth_account.messages import defunct_hash_message, encode_defunct

from fuzzydice.siwe.errors import (
    ChainNotAllowed,
    DomainMismatch,
    InvalidMessage,
    InvalidSignature,
    InvalidTimestamp,
    MalformedSignature,
    MessageExpired,
    MessageNotYetValid,
    NonceMismatch,
    SiweSignatureError,
    SiweValidationError,
    UriMismatch,
)
from fuzzydice.siwe.message import SiweMessage

SIGNATURE_BYTES = 65  # r (32) + s (32) + v (1)
_RECOVERY_IDS = (0, 1, 27, 28)
# Order of the secp256k1 group. EIP-2: a signature with s > n/2 is the malleable
# twin (n - s, flipped v) of a low-s one; like the SIWE reference, refuse it.
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
SECP256K1_HALF_N = SECP256K1_N // 2
NONCE_BYTES = 16  # 128 bits, written as 32 hex characters

ContractCheck = Callable[[SiweMessage, bytes, bytes], bool]
"""EIP-1271 hook: ``(message, eip191_hash, signature_bytes) -> bool`` (True only when the contract accepts)."""


def new_nonce() -> str:
    """A fresh nonce: 128 bits from `secrets`, as 32 lowercase hex characters (EIP-4361 alphanumeric)."""
    return secrets.token_hex(NONCE_BYTES)


def message_hash(text: str) -> bytes:
    """The EIP-191 (version 0x45, ``personal_sign``) hash of a message text.

    This is the hash an EIP-1271 contract wallet's ``isValidSignature`` receives.

    Args:
        text: The exact message text.

    Returns:
        The 32-byte keccak-256 hash of ``"\\x19Ethereum Signed Message:\\n" + len + text``.
    """
    return bytes(defunct_hash_message(text=text))


def signature_bytes(signature: str | bytes) -> bytes:
    """Decode a signature given as bytes or as hex text (``0x`` prefix optional).

    Args:
        signature: The signature.

    Returns:
        The raw signature bytes (any length; EOA recovery needs 65).

    Raises:
        SiweSignatureError: When the signature is neither bytes nor even-length hex.
    """
    if isinstance(signature, (bytes, bytearray, memoryview)):
        return bytes(signature)
    if not isinstance(signature, str):
        raise SiweSignatureError(f"a signature must be hex text or bytes, not {type(signature).__name__}")
    digits = signature[2:] if signature[:2] in ("0x", "0X") else signature
    if len(digits) % 2 or not all(c in "0123456789abcdefABCDEF" for c in digits):
        raise SiweSignatureError("the signature is not an even number of hex digits")
    return bytes.fromhex(digits)


def _recover(text: str, raw: bytes) -> str:
    if len(raw) != SIGNATURE_BYTES:
        raise SiweSignatureError(f"the signature has {len(raw)} bytes, not {SIGNATURE_BYTES}")
    if raw[64] not in _RECOVERY_IDS:
        raise SiweSignatureError(f"the recovery byte v={raw[64]} is not one of {_RECOVERY_IDS}")
    r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:64], "big")
    if not 0 < r < SECP256K1_N or not 0 < s < SECP256K1_N:
        raise SiweSignatureError("the signature's r or s is out of range (zero or not below the curve order)")
    if s > SECP256K1_HALF_N:
        raise SiweSignatureError("the signature's s is in the upper half of the curve order (malleable, EIP-2)")
    try:
        return Account.recover_message(encode_defunct(text=text), signature=raw)
    except Exception as exc:  # eth_keys BadSignature, eth_utils ValidationError, ValueError
        raise SiweSignatureError(f"the signature cannot be recovered: {exc}") from exc


def recover_signer(text: str, signature: str | bytes) -> str:
    """Recover the address that signed `text` with EIP-191 ``personal_sign``.

    Args:
        text: The exact message text that was signed.
        signature: 65-byte signature (r, s, v with v in 0, 1, 27, 28), as bytes or hex;
            0 < r < n and 0 < s <= n/2 (EIP-2 low s: the high-s twin is refused).

    Returns:
        The signer's address in EIP-55 checksum form.

    Raises:
        SiweSignatureError: When the signature is malformed, malleable (high s) or recovers no key.
    """
    return _recover(text, signature_bytes(signature))


def _check_fields(message: SiweMessage) -> None:
    try:
        message.validate()
    except SiweValidationError as exc:
        if exc.field in ("issued_at", "expiration_time", "not_before"):
            raise InvalidTimestamp(str(exc)) from exc
        raise InvalidMessage(str(exc)) from exc


def _check_window(message: SiweMessage, now: datetime, max_age: timedelta | None) -> None:
    expiration = message.expiration_datetime
    if expiration is not None and now >= expiration:
        raise MessageExpired(f"the message expired at {message.expiration_time}")
    not_before = message.not_before_datetime
    if not_before is not None and now < not_before:
        raise MessageNotYetValid(f"the message is not valid before {message.not_before}")
    if max_age is not None and now - message.issued_at_datetime >= max_age:
        raise MessageExpired(f"the message was issued at {message.issued_at}, longer than {max_age} ago")


def verify_message(
    message: SiweMessage,
    signature: str | bytes,
    *,
    domain: str,
    nonce: str,
    now: datetime,
    uri: str | None = None,
    chain_ids: Collection[int] | None = None,
    contract_check: ContractCheck | None = None,
    scheme: str | None = None,
    max_age: timedelta | None = None,
) -> str:
    """Verify a signed sign-in message against what the server expects.

    Args:
        message: The message (parsed from, or rebuilt into, the text the wallet signed).
        signature: The wallet's signature, as bytes or hex text.
        domain: The expected domain; compared exactly.
        nonce: The nonce the server issued; compared for exact equality.
        now: The current time (aware).
        uri: When given, the message's URI must equal it exactly.
        chain_ids: When given, the message's chain id must be one of them.
        contract_check: EIP-1271 hook, called as ``contract_check(message,
            message_hash(text), signature_bytes)`` when the EOA signer is not
            the message's address; the message is accepted only if it returns
            True. Its exceptions (e.g. an RPC outage) propagate.
        scheme: When given, the message's scheme must equal it (a message
            without a scheme fails); reported as ``domain_mismatch``.
        max_age: When given, a message issued `max_age` or longer before `now`
            is rejected as ``expired``.

    Returns:
        The verified address (the message's address, EIP-55).

    Raises:
        ValueError: When `now` is naive.
        InvalidTimestamp: A timestamp is not valid RFC 3339 (``invalid_timestamp``).
        InvalidMessage: Another field breaks the grammar (``invalid_message``).
        DomainMismatch: ``domain_mismatch``.
        NonceMismatch: ``nonce_mismatch``.
        UriMismatch: ``uri_mismatch``.
        ChainNotAllowed: ``chain_not_allowed``.
        MessageExpired: ``expired``.
        MessageNotYetValid: ``not_yet_valid``.
        MalformedSignature: ``malformed_signature``.
        InvalidSignature: ``invalid_signature``.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    _check_fields(message)
    if message.domain != domain:
        raise DomainMismatch(f"the message is for {message.domain!r}, not {domain!r}")
    if scheme is not None and message.scheme != scheme:
        raise DomainMismatch(f"the message's scheme is {message.scheme!r}, not {scheme!r}")
    if not hmac.compare_digest(message.nonce.encode(), nonce.encode()):
        raise NonceMismatch("the message's nonce is not the one issued")
    if uri is not None and message.uri != uri:
        raise UriMismatch(f"the message is for URI {message.uri!r}, not {uri!r}")
    if chain_ids is not None and message.chain_id not in chain_ids:
        raise ChainNotAllowed(f"chain {message.chain_id} is not allowed")
    _check_window(message, now, max_age)

    text = message.to_text()
    try:
        raw = signature_bytes(signature)
    except SiweSignatureError as exc:
        raise MalformedSignature(str(exc)) from exc
    try:
        signer: str | None = _recover(text, raw)
        problem = None
    except SiweSignatureError as exc:
        signer, problem = None, exc
    if signer == message.address:
        return message.address
    if contract_check is not None and contract_check(message, message_hash(text), raw) is True:
        return message.address
    if problem is not None:
        raise MalformedSignature(str(problem)) from problem
    raise InvalidSignature(f"the signature was made by {signer}, not {message.address}")
