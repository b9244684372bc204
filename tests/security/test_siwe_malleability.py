"""Attack review #7, finding 13: the malleable (high-s) twin of a SIWE signature is refused.

An ECDSA signature (r, s, v) over a hash has a twin (r, n - s, v ^ 1) that recovers the
same key. EIP-2 and the SIWE reference implementation accept only the low-s form
(s <= n/2); accepting both lets anyone who saw one signature make a second, distinct
valid one (a different "signature" for replay filters or logs keyed on its bytes).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from fuzzydice.outcome import Code
from fuzzydice.services import Services
from fuzzydice.siwe import SiweMessage, SiweSignatureError, SiweVerificationError, recover_signer, verify_message
from fuzzydice.wallet import flows

N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141  # secp256k1 group order
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
DOMAIN = "dice.example"
URI = "https://dice.example/login"
ORIGIN = "http://127.0.0.1:3000"
TAB = "tab-token-1"


def sign(account: Any, text: str) -> bytes:
    return bytes(account.sign_message(encode_defunct(text=text)).signature)


def split(raw: bytes) -> tuple[int, int, int]:
    return int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:64], "big"), raw[64]


def join(r: int, s: int, v: int) -> bytes:
    return r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v])


def malleate(raw: bytes) -> bytes:
    """The twin: s' = n - s and the recovery id flipped (27 <-> 28, 0 <-> 1)."""
    r, s, v = split(raw)
    return join(r, N - s, {27: 28, 28: 27, 0: 1, 1: 0}[v])


def make(account: Any) -> SiweMessage:
    return SiweMessage.build(
        domain=DOMAIN,
        address=account.address,
        uri=URI,
        version="1",
        chain_id=8453,
        nonce="n0nce12345abcdef",
        issued_at=NOW - timedelta(minutes=1),
        expiration_time=NOW + timedelta(minutes=10),
        statement="Sign in to Fuzzy Dice.",
    )


def verify(message: SiweMessage, signature: Any, **kwargs: Any) -> str:
    return verify_message(message, signature, domain=DOMAIN, nonce=message.nonce, now=NOW, uri=URI, **kwargs)


def test_the_high_s_twin_recovers_the_same_address_but_is_refused() -> None:
    account = Account.create()
    message = make(account)
    text = message.to_text()
    low = sign(account, text)
    r, s, v = split(low)
    assert s <= N // 2 and v in (27, 28)  # eth_account signs canonically
    assert verify(message, low) == account.address

    high = malleate(low)
    assert high != low and split(high)[1] > N // 2
    # The attack is real: plain eth_account takes the twin for the same signer.
    assert Account.recover_message(encode_defunct(text=text), signature=high) == account.address

    with pytest.raises(SiweVerificationError) as caught:
        verify(message, high)
    assert caught.value.reason == "malformed_signature"
    with pytest.raises(SiweVerificationError) as caught:
        verify(message, "0x" + high.hex())
    assert caught.value.reason == "malformed_signature"
    with pytest.raises(SiweSignatureError):
        recover_signer(text, high)
    # With v written as the recovery id 0/1 the twin is refused too.
    with pytest.raises(SiweSignatureError):
        recover_signer(text, high[:64] + bytes([high[64] - 27]))
    assert recover_signer(text, low[:64] + bytes([low[64] - 27])) == account.address


@pytest.mark.parametrize(
    ("r", "s"),
    [(0, 1), (1, 0), (N, 1), (1, N), (2**256 - 1, 1), (1, 2**256 - 1), (1, N // 2 + 1)],
    ids=["r=0", "s=0", "r=n", "s=n", "r>n", "s>n", "s=n/2+1"],
)
def test_out_of_range_r_and_s_are_malformed(r: int, s: int) -> None:
    account = Account.create()
    message = make(account)
    for v in (27, 28):
        with pytest.raises(SiweVerificationError) as caught:
            verify(message, join(r, s, v))
        assert caught.value.reason == "malformed_signature"


def test_contract_wallets_keep_their_own_rules() -> None:
    """EIP-1271 gets the bytes as sent; the contract (not this check) decides about high s."""
    account = Account.create()
    message = make(account)
    high = malleate(sign(account, message.to_text()))
    seen: list[bytes] = []

    def contract_check(msg: SiweMessage, digest: bytes, raw: bytes) -> bool:
        seen.append(raw)
        return True

    assert verify(message, high, contract_check=contract_check) == account.address
    assert seen == [high]
    # A contract that refuses it leaves the same malformed answer as without one.
    with pytest.raises(SiweVerificationError) as caught:
        verify(message, high, contract_check=lambda *_: False)
    assert caught.value.reason == "malformed_signature"


def test_the_wallet_sign_in_flow_refuses_the_twin(services: Services, clock) -> None:
    account = Account.create()
    challenge = flows.begin_sign_in(services, address=account.address, chain_id=31337, origin=ORIGIN, binding=TAB).value
    high = malleate(sign(account, challenge.message))
    assert Account.recover_message(encode_defunct(text=challenge.message), signature=high) == account.address
    refused = flows.complete_sign_in(services, nonce=challenge.nonce, signature="0x" + high.hex(), binding=TAB)
    assert (refused.code, refused.detail) == (Code.SIGNATURE_INVALID, "malformed_signature")

    # The honest low-s signature of a fresh challenge signs in.
    fresh = flows.begin_sign_in(services, address=account.address, chain_id=31337, origin=ORIGIN, binding=TAB).value
    low = sign(account, fresh.message)
    accepted = flows.complete_sign_in(services, nonce=fresh.nonce, signature="0x" + low.hex(), binding=TAB)
    assert accepted.ok and accepted.value.address == account.address
