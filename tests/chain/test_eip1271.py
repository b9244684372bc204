"""EIP-1271 against a real anvil: code detection and the TestWallet's isValidSignature, failing closed."""

from __future__ import annotations

import time

import pytest
from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_defunct

from fuzzydice.chain.devchain import free_port
from fuzzydice.chain.eip1271 import MAGIC_VALUE, ChainUnavailable, has_code, is_valid_signature
from fuzzydice.chain.testing import ANVIL_DEFAULT_KEY, deploy_test_wallet

MESSAGE = encode_defunct(text="fuzzydice.test wants you to sign in with your Ethereum account")
MESSAGE_HASH = _hash_eip191_message(MESSAGE)


def test_magic_value_is_the_selector_of_isValidSignature() -> None:
    from eth_utils import keccak

    assert MAGIC_VALUE == keccak(text="isValidSignature(bytes32,bytes)")[:4] == bytes.fromhex("1626ba7e")


def test_has_code_false_for_an_eoa(anvil, wallet_owner) -> None:
    assert has_code(anvil.url, wallet_owner.address) is False
    assert has_code(anvil.url, Account.from_key(ANVIL_DEFAULT_KEY).address) is False  # funded, still no code


def test_has_code_true_for_the_deployed_wallet(anvil, test_wallet) -> None:
    assert has_code(anvil.url, test_wallet) is True
    assert has_code(anvil.url, test_wallet.lower()) is True


def test_has_code_rejects_a_malformed_address(anvil) -> None:
    with pytest.raises(ValueError):
        has_code(anvil.url, "0x1234")


def test_has_code_raises_when_the_chain_is_down() -> None:
    with pytest.raises(ChainUnavailable):
        has_code(f"http://127.0.0.1:{free_port()}", "0x" + "11" * 20, timeout=1)


def test_owner_signature_is_valid(anvil, test_wallet, wallet_owner) -> None:
    signature = wallet_owner.sign_message(MESSAGE).signature
    assert is_valid_signature(anvil.url, test_wallet, MESSAGE_HASH, signature) is True


def test_owner_signature_via_unsafe_sign_hash_is_valid(anvil, test_wallet, wallet_owner) -> None:
    signature = Account.unsafe_sign_hash(MESSAGE_HASH, wallet_owner.key).signature
    assert is_valid_signature(anvil.url, test_wallet, MESSAGE_HASH, signature) is True


def test_another_keys_signature_is_invalid(anvil, test_wallet) -> None:
    stranger = Account.create()
    signature = stranger.sign_message(MESSAGE).signature
    assert is_valid_signature(anvil.url, test_wallet, MESSAGE_HASH, signature) is False


def test_owner_signature_over_another_hash_is_invalid(anvil, test_wallet, wallet_owner) -> None:
    signature = wallet_owner.sign_message(encode_defunct(text="something else")).signature
    assert is_valid_signature(anvil.url, test_wallet, MESSAGE_HASH, signature) is False


@pytest.mark.parametrize(
    "mangle",
    [
        lambda sig: b"",
        lambda sig: sig[:64],  # r, s without v
        lambda sig: sig + b"\x00",  # 66 bytes
        lambda sig: b"\x00" * 65,
        lambda sig: sig[:64] + b"\x1d",  # v = 29
        lambda sig: b"\xff" * 200,
    ],
    ids=["empty", "64-bytes", "66-bytes", "zeros", "bad-v", "long-junk"],
)
def test_malformed_signature_is_invalid(anvil, test_wallet, wallet_owner, mangle) -> None:
    signature = wallet_owner.sign_message(MESSAGE).signature
    assert is_valid_signature(anvil.url, test_wallet, MESSAGE_HASH, mangle(signature)) is False


def test_malleable_high_s_twin_is_invalid(anvil, test_wallet, wallet_owner) -> None:
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    signed = wallet_owner.sign_message(MESSAGE)
    twin = signed.r.to_bytes(32, "big") + (n - signed.s).to_bytes(32, "big") + bytes([55 - signed.v])
    assert is_valid_signature(anvil.url, test_wallet, MESSAGE_HASH, twin) is False


def test_address_without_code_is_invalid(anvil, wallet_owner) -> None:
    signature = wallet_owner.sign_message(MESSAGE).signature
    assert is_valid_signature(anvil.url, wallet_owner.address, MESSAGE_HASH, signature) is False


def test_malformed_address_is_invalid(anvil, wallet_owner) -> None:
    signature = wallet_owner.sign_message(MESSAGE).signature
    assert is_valid_signature(anvil.url, "not-an-address", MESSAGE_HASH, signature) is False


def test_a_hash_that_is_not_32_bytes_is_a_caller_bug(anvil, test_wallet) -> None:
    with pytest.raises(ValueError):
        is_valid_signature(anvil.url, test_wallet, b"\x00" * 31, b"")


def test_wallet_on_another_chain_is_unknown_there(anvil, test_wallet, wallet_owner) -> None:
    """Same address, other chain without the deployment: no code, so not valid."""
    from fuzzydice.chain.devchain import start_anvil

    signature = wallet_owner.sign_message(MESSAGE).signature
    with start_anvil(chain_id=8453) as l2:
        assert has_code(l2.url, test_wallet) is False
        assert is_valid_signature(l2.url, test_wallet, MESSAGE_HASH, signature) is False


def test_wallet_deployed_with_a_private_key_works(anvil, wallet_owner) -> None:
    wallet = deploy_test_wallet(anvil.url, wallet_owner.address, deployer_private_key=ANVIL_DEFAULT_KEY)
    signature = wallet_owner.sign_message(MESSAGE).signature
    assert is_valid_signature(anvil.url, wallet, MESSAGE_HASH, signature) is True


def test_unreachable_endpoint_is_invalid_quickly(test_wallet, wallet_owner) -> None:
    signature = wallet_owner.sign_message(MESSAGE).signature
    started = time.monotonic()
    assert is_valid_signature(f"http://127.0.0.1:{free_port()}", test_wallet, MESSAGE_HASH, signature) is False
    assert time.monotonic() - started < 1  # refused at once: no retries with backoff


def test_silent_endpoint_is_invalid_after_the_timeout(test_wallet, wallet_owner, silent_endpoint) -> None:
    """A server that accepts and never answers: one bounded wait, no retries."""
    signature = wallet_owner.sign_message(MESSAGE).signature
    started = time.monotonic()
    assert is_valid_signature(silent_endpoint, test_wallet, MESSAGE_HASH, signature, timeout=0.5) is False
    elapsed = time.monotonic() - started
    assert 0.4 < elapsed < 1.5, elapsed
