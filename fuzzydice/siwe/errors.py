"""Exceptions of the Sign-In with Ethereum (EIP-4361) module.

Parsing and building raise `SiweParseError` / `SiweValidationError` (both are
`ValueError`s). `verify_message` raises one subclass of `SiweVerificationError`
per failed check, each with a machine-readable `reason` class attribute that
callers can map to a user-facing message or a log field.
"""

from __future__ import annotations


class SiweError(Exception):
    """Base class of every error raised by `fuzzydice.siwe`."""


class SiweParseError(SiweError, ValueError):
    """A message text does not conform to the EIP-4361 grammar.

    Attributes:
        reason: What is wrong, in plain words (also the exception's text).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SiweValidationError(SiweError, ValueError):
    """A set of message fields cannot form a valid EIP-4361 message.

    Attributes:
        field: The snake_case name of the offending field.
        reason: What is wrong, in plain words (also the exception's text).
    """

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class SiweSignatureError(SiweError, ValueError):
    """A signature is not a well-formed 65-byte secp256k1 signature."""


class SiweVerificationError(SiweError):
    """A message failed verification; `reason` says which check failed."""

    reason = "verification_failed"


class InvalidMessage(SiweVerificationError):
    """The message fields break the grammar (other than its timestamps)."""

    reason = "invalid_message"


class InvalidTimestamp(SiweVerificationError):
    """`issued_at`, `expiration_time` or `not_before` is not a valid RFC 3339 date-time."""

    reason = "invalid_timestamp"


class DomainMismatch(SiweVerificationError):
    """The message's domain (or scheme) is not the one the server expects."""

    reason = "domain_mismatch"


class NonceMismatch(SiweVerificationError):
    """The message's nonce is not exactly the one the server issued."""

    reason = "nonce_mismatch"


class UriMismatch(SiweVerificationError):
    """The message's URI is not the one the server expects."""

    reason = "uri_mismatch"


class ChainNotAllowed(SiweVerificationError):
    """The message's chain id is not among the allowed ones."""

    reason = "chain_not_allowed"


class MessageExpired(SiweVerificationError):
    """`now` is at or after the expiration time (or past the allowed age)."""

    reason = "expired"


class MessageNotYetValid(SiweVerificationError):
    """`now` is before the message's not-before time."""

    reason = "not_yet_valid"


class MalformedSignature(SiweVerificationError):
    """The signature is not decodable as a secp256k1 signature."""

    reason = "malformed_signature"


class InvalidSignature(SiweVerificationError):
    """The signature is well formed but was not made by the message's address."""

    reason = "invalid_signature"
