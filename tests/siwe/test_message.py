"""The EIP-4361 message: exact text, strict parsing, checked building, timestamps (no vector files needed)."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from eth_utils import to_checksum_address

from fuzzydice.siwe import SiweMessage, SiweParseError, SiweValidationError, format_date_time
from fuzzydice.siwe.grammar import is_authority, is_uri, parse_date_time

ADDRESS = "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"

FIELDS: dict[str, Any] = {
    "domain": "dice.example",
    "address": ADDRESS,
    "uri": "https://dice.example/login",
    "version": "1",
    "chain_id": 1,
    "nonce": "32891757abcdefgh",
    "issued_at": "2021-09-30T16:25:24.000Z",
}


def build(**overrides: Any) -> SiweMessage:
    return SiweMessage.build(**{**FIELDS, **overrides})


def text_of(**overrides: Any) -> str:
    return build(**overrides).to_text()


# --- exact text ---------------------------------------------------------------------


def test_no_statement_means_three_line_breaks_after_the_address() -> None:
    text = text_of()
    assert f"{ADDRESS}\n\n\nURI: https://dice.example/login\n" in text
    assert SiweMessage.parse(text).statement is None


def test_statement_sits_between_two_empty_lines() -> None:
    text = text_of(statement="Sign in to Fuzzy Dice.")
    assert f"{ADDRESS}\n\nSign in to Fuzzy Dice.\n\nURI: " in text


def test_full_message_text_and_order() -> None:
    message = build(
        scheme="https",
        statement="I accept the terms: https://dice.example/tos",
        expiration_time="2021-09-30T17:25:24.000Z",
        not_before="2021-09-30T16:20:24.000Z",
        request_id="req-1",
        resources=["ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq/", "https://dice.example/a.json"],
    )
    assert message.to_text() == (
        "https://dice.example wants you to sign in with your Ethereum account:\n"
        f"{ADDRESS}\n"
        "\n"
        "I accept the terms: https://dice.example/tos\n"
        "\n"
        "URI: https://dice.example/login\n"
        "Version: 1\n"
        "Chain ID: 1\n"
        "Nonce: 32891757abcdefgh\n"
        "Issued At: 2021-09-30T16:25:24.000Z\n"
        "Expiration Time: 2021-09-30T17:25:24.000Z\n"
        "Not Before: 2021-09-30T16:20:24.000Z\n"
        "Request ID: req-1\n"
        "Resources:\n"
        "- ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq/\n"
        "- https://dice.example/a.json"
    )
    assert SiweMessage.parse(message.to_text()) == message


def test_empty_request_id_round_trips() -> None:
    message = build(request_id="")
    assert "\nRequest ID: " in message.to_text()
    assert SiweMessage.parse(message.to_text()) == message


# --- EIP-55 addresses ---------------------------------------------------------------


def test_address_must_be_eip55() -> None:
    assert build().address == ADDRESS
    with pytest.raises(SiweValidationError, match="EIP-55"):
        build(address=ADDRESS.lower())
    with pytest.raises(SiweValidationError, match="EIP-55"):
        build(address="0x" + ADDRESS[2:].upper())
    i = next(i for i in range(2, 42) if ADDRESS[i].isalpha())
    flipped = ADDRESS[:i] + ADDRESS[i].swapcase() + ADDRESS[i + 1 :]  # one letter with the wrong case
    with pytest.raises(SiweValidationError, match="EIP-55"):
        build(address=flipped)
    with pytest.raises(SiweParseError):
        SiweMessage.parse(text_of().replace(ADDRESS, ADDRESS.lower()))
    assert to_checksum_address(ADDRESS.lower()) == ADDRESS


@pytest.mark.parametrize("address", ["0X" + ADDRESS[2:], ADDRESS[:-1], ADDRESS + "0", "0x" + "g" * 40, ""])
def test_address_shape(address: str) -> None:
    with pytest.raises(SiweValidationError):
        build(address=address)


# --- strict parsing -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("mutate", "why"),
    [
        (lambda t: t + "\n", "trailing line break"),
        (lambda t: t.replace("\n", "\r\n"), "CRLF line breaks"),
        (lambda t: t.replace(f"{ADDRESS}\n\n\n", f"{ADDRESS}\n\n\n\n"), "four line breaks"),
        (lambda t: t.replace(f"{ADDRESS}\n\n\n", f"{ADDRESS}\n\n"), "two line breaks"),
        (lambda t: t.replace("Chain ID: 1", "Chain ID: 01"), "leading zero in chain id"),
        (lambda t: t.replace("Chain ID: 1", "Chain ID: ١"), "non-ASCII digit in chain id"),
        (lambda t: t.replace("Chain ID: 1", "Chain ID: 1_0"), "underscore in chain id"),
        (lambda t: t.replace("Chain ID: 1", "Chain ID: -1"), "negative chain id"),
        (lambda t: t.replace("Version: 1", "Version: 1 "), "trailing space"),
        (lambda t: t.replace("URI: ", "URI:"), "missing space after tag"),
        (lambda t: t.replace("URI: ", "uri: "), "tag case"),
        (lambda t: t.replace(" wants you", "  wants you"), "double space in header"),
        (lambda t: t.replace("Nonce: 32891757abcdefgh", "Nonce: 32891757-abcdefgh"), "dash in nonce"),
        (lambda t: t.replace("Nonce: 32891757abcdefgh", "Nonce: 32891757abcdéfgh"), "non-ASCII nonce"),
        (lambda t: t + "\nResources:", "empty resources list"),
        (lambda t: t + "\nResources:\n-  https://dice.example", "two spaces after dash"),
        (lambda t: t + "\nExpiration Time: 2021-09-30T17:25:24Z" * 2, "two expiration lines"),
        (lambda t: t + "\nResources:\n- https://dice.example\nRequest ID: x", "optional line after resources"),
        (lambda t: t.replace("dice.example wants", "://dice.example wants"), "empty scheme"),
        (lambda t: t.replace("dice.example wants", "1https://dice.example wants"), "scheme not starting with a letter"),
        (lambda t: t.replace("dice.example wants", "dice.example/path wants"), "path in domain"),
        (lambda t: t.replace("dice.example wants", "dice example wants"), "space in domain"),
        (lambda t: t.replace("dice.example wants", "a@b@dice.example wants"), "two @ in domain"),
        (lambda t: t.replace("dice.example wants", "[::cafe wants"), "unclosed IPv6 literal"),
        (lambda t: t.replace("dice.example wants", "[fe80::1%25eth0] wants"), "IPv6 zone id"),
        (lambda t: t.replace("dice.example wants", "[12345::] wants"), "bad IPv6"),
        (lambda t: t.replace("dice.example wants", "dice.example:80a wants"), "bad port"),
        (lambda t: t.replace("dice.example wants", "@ wants"), "only userinfo"),
        (lambda t: t.replace("2021-09-30T16:25:24.000Z", "2021-02-30T16:25:24.000Z"), "February 30th"),
        (lambda t: t.replace("2021-09-30T16:25:24.000Z", "2021-09-30T16:25:60Z"), "leap second"),
        (lambda t: t.replace("2021-09-30T16:25:24.000Z", "2021-09-30T24:00:00Z"), "hour 24"),
        (lambda t: t.replace("2021-09-30T16:25:24.000Z", "2021-09-30T16:25:24+24:00"), "offset 24h"),
        (lambda t: t.replace("2021-09-30T16:25:24.000Z", "2021-09-30T16:25:24"), "no offset"),
        (lambda t: t.replace("2021-09-30T16:25:24.000Z", "2021-09-30 16:25:24Z"), "space separator"),
        (lambda t: t.replace("2021-09-30T16:25:24.000Z", "2021-09-30T16:25:24.Z"), "empty fraction"),
        (lambda t: t.replace("2021-09-30T16:25:24.000Z", "2021-9-30T16:25:24Z"), "one-digit month"),
        (lambda t: t.replace("2021-09-30T16:25:24.000Z", "0000-01-01T00:00:00Z"), "year zero"),
        (lambda t: t.replace("URI: https://dice.example/login", "URI: https://dice.example/lo gin"), "space in URI"),
        (lambda t: t.replace("URI: https://dice.example/login", "URI: /login"), "relative URI"),
        (lambda t: t.replace("URI: https://dice.example/login", "URI: https://dice.example/%zz"), "bad percent"),
        (lambda t: t.replace("URI: https://dice.example/login", "URI: https://dice.example/é"), "non-ASCII URI"),
        (lambda t: t.replace("URI: https://dice.example/login", "URI: https://a b/"), "space in URI authority"),
        (lambda t: "", "empty text"),
        (lambda t: t.split("\n", 1)[0], "header only"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_parse_rejects(mutate: Any, why: str) -> None:
    with pytest.raises(SiweParseError):
        SiweMessage.parse(mutate(text_of()))


def test_parse_rejects_statement_outside_the_abnf_charset() -> None:
    base = text_of(statement="Sign in please")
    for bad in ['Say "hi"', "100%", "caf\u00e9", "tab\there", "back\\slash", "<b>", "a\rb"]:
        with pytest.raises(SiweParseError):
            SiweMessage.parse(base.replace("Sign in please", bad))


def test_parse_rejects_oversized_text() -> None:
    huge = text_of(resources=["https://dice.example/" + "a" * 100] * 200)
    with pytest.raises(SiweParseError, match="longer than"):
        SiweMessage.parse(huge)


def test_parse_rejects_non_str() -> None:
    with pytest.raises(SiweParseError):
        SiweMessage.parse(b"dice.example wants you")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "domain",
    ["dice.example", "localhost:3000", "127.0.0.1", "[::1]:8080", "[v1.fe]", "user:pw@dice.example:443",
     "xn--bcher-kva.example", "dice.example:", "%41.example"],
)
def test_domain_authorities_accepted(domain: str) -> None:
    message = build(domain=domain)
    assert SiweMessage.parse(message.to_text()).domain == domain


@pytest.mark.parametrize(
    "uri",
    ["https://dice.example", "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66", "file:///etc/hosts", "did:pkh:eip155:1:x",
     "https://[::cafe]:8080/a/b?c=d&e=f#g", "mailto:ada@dice.example", "ipfs://bafy/", "https://u:p@h/p;x=1"],
)
def test_uris_accepted(uri: str) -> None:
    assert is_uri(uri)
    message = build(uri=uri, resources=[uri])
    assert SiweMessage.parse(message.to_text()) == message


@pytest.mark.parametrize("uri", ["", "dice.example", "//dice.example", "https://dice.example/#a#b", "ht tp://x", "https://[::cafe"])
def test_uris_rejected(uri: str) -> None:
    assert not is_uri(uri)
    with pytest.raises(SiweValidationError):
        build(uri=uri)


def test_scheme_only_from_the_header() -> None:
    text = text_of(scheme="http", domain="localhost:3030")
    assert text.startswith("http://localhost:3030 wants you")
    parsed = SiweMessage.parse(text)
    assert (parsed.scheme, parsed.domain) == ("http", "localhost:3030")
    assert is_authority("localhost:3030", require_host=True)
    assert not is_authority("", require_host=True)


# --- checked building ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("domain", None), ("domain", ""), ("domain", "#x"), ("domain", 5),
        ("address", None), ("uri", None), ("version", None), ("version", "2"), ("version", 1),
        ("chain_id", None), ("chain_id", "1"), ("chain_id", True), ("chain_id", -1), ("chain_id", 1.0),
        ("nonce", None), ("nonce", "1234567"), ("nonce", "12345678 "), ("nonce", "abcd_efgh"),
        ("issued_at", None), ("issued_at", "yesterday"), ("issued_at", datetime(2021, 1, 1)),
        ("expiration_time", "2021-13-01T00:00:00Z"), ("not_before", "2021-01-01T00:00:00"),
        ("statement", ""), ("statement", "two\nlines"), ("statement", 7),
        ("request_id", "has space"), ("request_id", "a/b"),
        ("resources", "https://dice.example"), ("resources", ["not a uri"]), ("resources", [None]), ("resources", 5),
        ("scheme", ""), ("scheme", "1http"), ("scheme", "ht tp"),
    ],
)
def test_build_rejects(field: str, value: Any) -> None:
    with pytest.raises(SiweValidationError) as caught:
        build(**{field: value})
    assert caught.value.field == field


def test_build_formats_datetimes_as_utc_milliseconds() -> None:
    local = timezone(timedelta(hours=2))
    message = build(
        issued_at=datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=local),
        expiration_time=datetime(2024, 5, 1, 10, 5, tzinfo=timezone.utc),
    )
    assert message.issued_at == "2024-05-01T10:00:00.123Z"
    assert message.expiration_time == "2024-05-01T10:05:00.000Z"
    assert format_date_time(datetime(5, 1, 2, 3, 4, 5, tzinfo=timezone.utc)) == "0005-01-02T03:04:05.000Z"


def test_from_dict_takes_camel_and_snake_case_and_refuses_unknown_keys() -> None:
    camel = {"chainId": 1, "issuedAt": FIELDS["issued_at"], **{k: v for k, v in FIELDS.items() if k not in ("chain_id", "issued_at")}}
    assert SiweMessage.from_dict(camel) == build()
    assert SiweMessage.from_dict(FIELDS) == build()
    with pytest.raises(SiweValidationError, match="not a field"):
        SiweMessage.from_dict({**FIELDS, "signature": "0x00"})
    with pytest.raises(SiweValidationError, match="twice"):
        SiweMessage.from_dict({**FIELDS, "chainId": 1})


def test_message_is_frozen_and_resources_are_a_tuple() -> None:
    message = build(resources=["https://dice.example/a"])
    assert message.resources == ("https://dice.example/a",)
    with pytest.raises(dataclasses.FrozenInstanceError):
        message.nonce = "otherNonce1"  # type: ignore[misc]


# --- timestamps ---------------------------------------------------------------------


def test_datetime_helpers_return_aware_utc() -> None:
    message = build(
        issued_at="2021-09-30T16:25:24-02:00",
        expiration_time="2021-09-30T18:25:24.999999999z",
        not_before="2021-09-30t18:00:00+05:30",
    )
    assert message.issued_at_datetime == datetime(2021, 9, 30, 18, 25, 24, tzinfo=timezone.utc)
    assert message.issued_at_datetime.tzinfo == timezone.utc
    assert message.expiration_datetime == datetime(2021, 9, 30, 18, 25, 24, 999999, tzinfo=timezone.utc)
    assert message.not_before_datetime == datetime(2021, 9, 30, 12, 30, tzinfo=timezone.utc)
    assert SiweMessage.parse(message.to_text()) == message  # the exact texts are kept
    plain = build()
    assert plain.expiration_datetime is None and plain.not_before_datetime is None


def test_datetime_helper_raises_on_an_impossible_date() -> None:
    record = dataclasses.replace(build(), not_before="2025-02-31T17:09:38.578Z")
    with pytest.raises(SiweValidationError) as caught:
        _ = record.not_before_datetime
    assert caught.value.field == "not_before"


def test_parse_date_time_minus_zero_offset_is_utc() -> None:
    assert parse_date_time("2024-01-01T00:00:00-00:00") == datetime(2024, 1, 1, tzinfo=timezone.utc)
