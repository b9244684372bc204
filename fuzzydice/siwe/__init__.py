"""Sign-In with Ethereum (EIP-4361), written by hand against the spruceid reference vectors.

Typical server flow: issue `new_nonce()`, build the message with
`SiweMessage.build(...)`, store its `to_text()`, let the wallet sign that text,
then `verify_message(SiweMessage.parse(stored_text), signature, domain=...,
nonce=..., now=...)` and consume the nonce.
"""

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
    SiweError,
    SiweParseError,
    SiweSignatureError,
    SiweValidationError,
    SiweVerificationError,
    UriMismatch,
)
from fuzzydice.siwe.grammar import format_date_time
from fuzzydice.siwe.message import SiweMessage
from fuzzydice.siwe.verify import (
    ContractCheck,
    message_hash,
    new_nonce,
    recover_signer,
    signature_bytes,
    verify_message,
)

__all__ = [
    "ChainNotAllowed",
    "ContractCheck",
    "DomainMismatch",
    "InvalidMessage",
    "InvalidSignature",
    "InvalidTimestamp",
    "MalformedSignature",
    "MessageExpired",
    "MessageNotYetValid",
    "NonceMismatch",
    "SiweError",
    "SiweMessage",
    "SiweParseError",
    "SiweSignatureError",
    "SiweValidationError",
    "SiweVerificationError",
    "UriMismatch",
    "format_date_time",
    "message_hash",
    "new_nonce",
    "recover_signer",
    "signature_bytes",
    "verify_message",
]
