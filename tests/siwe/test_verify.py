"""Signature recovery and verification with freshly created keys (no vector files needed)."""

from __future__ import annotations

import dataclasses
import string
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils import keccak

from fuzzydice.siwe import (
    SiweMessage,
    SiweSignatureError,
    SiweVerificationError,
    message_hash,
    new_nonce,
    recover_signer,
    signature_bytes,
    verify_message,
)

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
DOMAIN = "dice.example"
URI = "https://dice.example/login"


@pytest.fixture(scope="module")
def account() -> Any:
    return Account.create()


def make(account: Any, **overrides: Any) -> SiweMessage:
    fields: dict[str, Any] = {
        "domain": DOMAIN,
        "address": account.address,
        "uri": URI,
        "version": "1",
        "chain_id": 8453,
        "nonce": "n0nce12345abcdef",
        "issued_at": NOW - timedelta(minutes=1),
        "expiration_time": NOW + timedelta(minutes=10),
        "statement": "Sign in to Fuzzy Dice.",
    }
    fields.update(overrides)
    return SiweMessage.build(**fields)


def sign(account: Any, text: str) -> str:
    return "0x" + account.sign_message(encode_defunct(text=text)).signature.hex().removeprefix("0x")


def verify(message: SiweMessage, signature: Any, **overrides: Any) -> str:
    kwargs: dict[str, Any] = {"domain": DOMAIN, "nonce": message.nonce, "now": NOW}
    kwargs.update(overrides)
    return verify_message(message, signature, **kwargs)


def reason_of(message: SiweMessage, signature: Any, **overrides: Any) -> str:
    with pytest.raises(SiweVerificationError) as caught:
        verify(message, signature, **overrides)
    return caught.value.reason


# --- the happy path -----------------------------------------------------------------


def test_signed_message_verifies(account: Any) -> None:
    message = make(account)
    signature = sign(account, message.to_text())
    assert verify(message, signature, uri=URI, chain_ids={8453}) == account.address
    # Bytes and hex without 0x work too; the parsed stored text verifies the same.
    assert verify(message, bytes.fromhex(signature[2:])) == account.address
    assert verify(message, signature[2:]) == account.address
    assert verify(SiweMessage.parse(message.to_text()), signature) == account.address


def test_message_without_statement_verifies(account: Any) -> None:
    message = make(account, statement=None)
    assert f"{account.address}\n\n\nURI: " in message.to_text()
    assert verify(message, sign(account, message.to_text())) == account.address


def test_recovery_byte_0_1_and_27_28_both_recover(account: Any) -> None:
    text = make(account).to_text()
    raw = signature_bytes(sign(account, text))
    assert raw[64] in (27, 28)
    low_v = raw[:64] + bytes([raw[64] - 27])
    assert recover_signer(text, raw) == recover_signer(text, low_v) == account.address


# --- signature failures -------------------------------------------------------------


def test_tampered_message_is_an_invalid_signature(account: Any) -> None:
    message = make(account)
    signature = sign(account, message.to_text())
    tampered = SiweMessage.parse(message.to_text().replace("Fuzzy Dice.", "Fuzzy Dicf."))
    assert reason_of(tampered, signature) == "invalid_signature"


def test_signature_of_another_key_is_invalid(account: Any) -> None:
    message = make(account)
    other = Account.create()
    assert reason_of(message, sign(other, message.to_text())) == "invalid_signature"


def test_message_claiming_another_address_is_invalid(account: Any) -> None:
    victim = Account.create()
    message = make(victim)
    assert reason_of(message, sign(account, message.to_text())) == "invalid_signature"


@pytest.mark.parametrize(
    "mangle",
    [
        lambda s: s[:-1],  # odd number of hex digits
        lambda s: s[:-2],  # 64 bytes
        lambda s: s + "00",  # 66 bytes
        lambda s: s[:-2] + "05",  # v = 5
        lambda s: s[:-2] + "25",  # v = 37 (EIP-155 style, not personal_sign)
        lambda s: "0x" + "00" * 65,  # r = s = 0
        lambda s: s[:-4] + "zz" + s[-2:],  # not hex
        lambda s: "",
        lambda s: 12345,
    ],
)
def test_malformed_signatures(account: Any, mangle: Any) -> None:
    message = make(account)
    bad = mangle(sign(account, message.to_text()))
    assert reason_of(message, bad) == "malformed_signature"
    with pytest.raises(SiweSignatureError):
        recover_signer(message.to_text(), bad)


def test_message_hash_is_eip191(account: Any) -> None:
    text = make(account).to_text()
    data = text.encode()
    assert message_hash(text) == keccak(b"\x19Ethereum Signed Message:\n" + str(len(data)).encode() + data)
    assert len(message_hash(text)) == 32


# --- expected values ----------------------------------------------------------------


def test_wrong_domain_is_rejected(account: Any) -> None:
    message = make(account)
    signature = sign(account, message.to_text())
    for domain in ("evil.example", "dice.example:443", "DICE.example", "dice.example.evil.example", ""):
        assert reason_of(message, signature, domain=domain) == "domain_mismatch"


def test_scheme_is_checked_when_given(account: Any) -> None:
    message = make(account, scheme="https")
    signature = sign(account, message.to_text())
    assert verify(message, signature, scheme="https") == account.address
    assert reason_of(message, signature, scheme="http") == "domain_mismatch"
    plain = make(account)
    assert reason_of(plain, sign(account, plain.to_text()), scheme="https") == "domain_mismatch"


def test_nonce_must_match_exactly(account: Any) -> None:
    issued = "abcDEF1234567890"
    message = make(account, nonce=issued)
    signature = sign(account, message.to_text())
    assert verify(message, signature, nonce=issued) == account.address
    for expected in ("otherNonce123456", issued.lower(), issued[:-1], "x" + issued, issued + " ", ""):
        assert reason_of(message, signature, nonce=expected) == "nonce_mismatch"


def test_nonce_that_merely_contains_the_issued_one_is_rejected(account: Any) -> None:
    # better-auth PR#7238: a substring match let a message whose nonce contains the issued one through.
    issued = "abcDEF12345"
    message = make(account, nonce=f"xx{issued}yy")
    assert reason_of(message, sign(account, message.to_text()), nonce=issued) == "nonce_mismatch"
    short = make(account, nonce=issued)
    assert reason_of(short, sign(account, short.to_text()), nonce=f"xx{issued}yy") == "nonce_mismatch"


def test_uri_is_checked_when_given(account: Any) -> None:
    message = make(account)
    signature = sign(account, message.to_text())
    assert reason_of(message, signature, uri="https://dice.example/other") == "uri_mismatch"


def test_chain_must_be_allowed(account: Any) -> None:
    message = make(account, chain_id=1)
    signature = sign(account, message.to_text())
    assert reason_of(message, signature, chain_ids={8453, 84532}) == "chain_not_allowed"
    assert reason_of(message, signature, chain_ids=()) == "chain_not_allowed"
    assert verify(message, signature, chain_ids=[1]) == account.address


# --- time window --------------------------------------------------------------------


def test_expired_at_and_after_the_expiration_time(account: Any) -> None:
    message = make(account)
    signature = sign(account, message.to_text())
    expiry = message.expiration_datetime
    assert expiry is not None
    assert verify(message, signature, now=expiry - timedelta(microseconds=1)) == account.address
    assert reason_of(message, signature, now=expiry) == "expired"
    assert reason_of(message, signature, now=expiry + timedelta(days=1)) == "expired"


def test_not_yet_valid_before_not_before(account: Any) -> None:
    message = make(account, not_before=NOW + timedelta(minutes=5))
    signature = sign(account, message.to_text())
    start = message.not_before_datetime
    assert start is not None
    assert reason_of(message, signature, now=start - timedelta(microseconds=1)) == "not_yet_valid"
    assert verify(message, signature, now=start) == account.address


def test_time_comparisons_respect_offsets(account: Any) -> None:
    message = make(account, expiration_time="2025-06-01T14:00:00+02:00")  # 12:00 UTC
    signature = sign(account, message.to_text())
    assert reason_of(message, signature, now=NOW) == "expired"
    berlin = timezone(timedelta(hours=2))
    assert verify(message, signature, now=datetime(2025, 6, 1, 13, 59, tzinfo=berlin)) == account.address


def test_max_age_rejects_old_messages(account: Any) -> None:
    message = make(account, expiration_time=None)
    signature = sign(account, message.to_text())
    assert verify(message, signature, max_age=timedelta(minutes=5)) == account.address
    assert reason_of(message, signature, max_age=timedelta(seconds=30)) == "expired"


def test_naive_now_is_a_programming_error(account: Any) -> None:
    message = make(account)
    with pytest.raises(ValueError, match="timezone-aware"):
        verify(message, sign(account, message.to_text()), now=datetime(2025, 6, 1))


def test_invalid_fields_of_a_raw_record(account: Any) -> None:
    message = make(account)
    signature = sign(account, message.to_text())
    assert reason_of(dataclasses.replace(message, issued_at="2025-02-30T00:00:00Z"), signature) == "invalid_timestamp"
    assert reason_of(dataclasses.replace(message, expiration_time="soon"), signature) == "invalid_timestamp"
    lower = dataclasses.replace(message, address=message.address.lower())
    assert reason_of(lower, signature) == "invalid_message"
    assert reason_of(dataclasses.replace(message, nonce="short"), signature, nonce="short") == "invalid_message"


# --- EIP-1271 hook ------------------------------------------------------------------


def test_contract_check_called_only_when_the_eoa_signer_differs(account: Any) -> None:
    calls: list[tuple[SiweMessage, bytes, bytes]] = []

    def contract_check(message: SiweMessage, digest: bytes, signature: bytes) -> bool:
        calls.append((message, digest, signature))
        return True

    message = make(account)
    good = sign(account, message.to_text())
    assert verify(message, good, contract_check=contract_check) == account.address
    assert calls == []

    wallet = make(Account.create())  # the "contract wallet" address, signed by someone else
    foreign = sign(account, wallet.to_text())
    assert verify(wallet, foreign, contract_check=contract_check) == wallet.address
    assert calls == [(wallet, message_hash(wallet.to_text()), bytes.fromhex(foreign[2:]))]


def test_contract_check_gets_signatures_of_any_length(account: Any) -> None:
    wallet = make(account)
    blob = bytes(range(200))  # e.g. a multisig's concatenated signatures
    assert verify(wallet, blob, contract_check=lambda m, h, s: s == blob) == wallet.address
    assert reason_of(wallet, blob, contract_check=lambda m, h, s: False) == "malformed_signature"


def test_contract_check_must_return_true_itself(account: Any) -> None:
    wallet = make(Account.create())
    foreign = sign(account, wallet.to_text())
    assert reason_of(wallet, foreign, contract_check=lambda m, h, s: False) == "invalid_signature"
    assert reason_of(wallet, foreign, contract_check=lambda m, h, s: b"\x16\x26\xba\x7e") == "invalid_signature"
    assert reason_of(wallet, foreign, contract_check=lambda m, h, s: 1) == "invalid_signature"


def test_cheap_checks_come_before_the_contract_call(account: Any) -> None:
    wallet = make(Account.create())
    foreign = sign(account, wallet.to_text())

    def must_not_run(message: SiweMessage, digest: bytes, signature: bytes) -> bool:
        raise AssertionError("contract_check called for a message that fails earlier checks")

    assert reason_of(wallet, foreign, nonce="someOtherNonce1", contract_check=must_not_run) == "nonce_mismatch"


# --- nonces -------------------------------------------------------------------------


def test_new_nonce_is_long_alphanumeric_and_fresh() -> None:
    nonces = {new_nonce() for _ in range(1000)}
    assert len(nonces) == 1000
    for nonce in nonces:
        assert len(nonce) >= 17  # 32 hex characters = 128 bits
        assert set(nonce) <= set(string.ascii_letters + string.digits)
    SiweMessage.build(
        domain=DOMAIN, address="0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2", uri=URI, version="1",
        chain_id=1, nonce=nonces.pop(), issued_at=NOW,
    )
