"""The spruceid/siwe reference vectors (EIP-4361), read in place from ``../shared/vectors/siwe``.

``eip1271.json`` is not used: its two contract-wallet signatures can only be
checked against mainnet contracts.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from fuzzydice.siwe import (
    SiweMessage,
    SiweParseError,
    SiweValidationError,
    SiweVerificationError,
    verify_message,
)
from fuzzydice.siwe.grammar import parse_date_time
from tests.siwe.vectors import params, snake

# For vectors without a `time`: after every issuedAt of the files, before every 2100 expiration/not-before.
DEFAULT_NOW = datetime(2025, 6, 1, tzinfo=timezone.utc)

# The failure each verification_negative vector stands for.
EXPECTED_REASON = {
    "expired message": "expired",
    "domain binding": "domain_mismatch",
    "custom time": "expired",
    "custom nonce": "nonce_mismatch",
    "malformed signature": "malformed_signature",
    "wrong signature": "invalid_signature",
    "not yet valid": "not_yet_valid",
    "invalid issuedAt": "invalid_timestamp",
    "invalid notBefore": "invalid_timestamp",
    "invalid expirationTime": "invalid_timestamp",
}
TIMESTAMP_VECTORS = {"invalid issuedAt", "invalid notBefore", "invalid expirationTime"}


def _now(vector: dict[str, Any]) -> datetime:
    return parse_date_time(vector["time"]) if "time" in vector else DEFAULT_NOW


@pytest.mark.parametrize(("name", "vector"), params("parsing_positive"))
def test_parsing_positive_fields(name: str, vector: dict[str, Any]) -> None:
    message = SiweMessage.parse(vector["message"])
    expected = snake(vector["fields"])
    for field, value in expected.items():
        assert getattr(message, field) == value, field
    for optional in ("statement", "expiration_time", "not_before", "request_id", "scheme"):
        if optional not in expected:
            assert getattr(message, optional) is None, optional
    if "resources" not in expected:
        assert message.resources == ()


@pytest.mark.parametrize(("name", "vector"), params("parsing_positive"))
def test_parsing_positive_round_trips(name: str, vector: dict[str, Any]) -> None:
    text = vector["message"]
    assert SiweMessage.parse(text).to_text() == text
    # Building from the listed fields gives the same text too.
    assert SiweMessage.from_dict(vector["fields"]).to_text() == text


@pytest.mark.parametrize(("name", "text"), params("parsing_negative"))
def test_parsing_negative(name: str, text: str) -> None:
    with pytest.raises(SiweParseError):
        SiweMessage.parse(text)


@pytest.mark.parametrize(("name", "fields"), params("parsing_negative_objects"))
def test_parsing_negative_objects(name: str, fields: dict[str, Any]) -> None:
    with pytest.raises(SiweValidationError):
        SiweMessage.from_dict(fields)


@pytest.mark.parametrize(("name", "vector"), params("verification_positive"))
def test_verification_positive(name: str, vector: dict[str, Any]) -> None:
    message = SiweMessage.from_dict(snake(vector))
    assert SiweMessage.parse(message.to_text()) == message
    address = verify_message(
        message,
        vector["signature"],
        domain=message.domain,
        nonce=message.nonce,
        now=_now(vector),
        uri=message.uri,
        chain_ids={message.chain_id},
    )
    assert address == vector["address"]


@pytest.mark.parametrize(("name", "vector"), params("verification_negative"))
def test_verification_negative(name: str, vector: dict[str, Any]) -> None:
    fields = snake(vector)
    if name in TIMESTAMP_VECTORS:
        # The checked builder refuses it outright...
        with pytest.raises(SiweValidationError):
            SiweMessage.from_dict(fields)
    # ...and a message record carrying it directly is refused by verification.
    message = SiweMessage(**fields)
    with pytest.raises(SiweVerificationError) as caught:
        verify_message(
            message,
            vector["signature"],
            domain=vector.get("domainBinding", message.domain),
            nonce=vector.get("matchNonce", message.nonce),
            now=_now(vector),
        )
    if name in EXPECTED_REASON:
        assert caught.value.reason == EXPECTED_REASON[name]
