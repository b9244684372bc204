"""EIP-1271 through the chain client against a real anvil: the TestWallet's isValidSignature, failing closed.

Unreachable and silent endpoints (ChainUnavailable) are in test_client.py.
"""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_defunct

from fuzzydice.chain.devchain import start_anvil
from fuzzydice.chain.eip1271 import MAGIC_VALUE
from fuzzydice.chain.testing import ANVIL_DEFAULT_KEY, deploy_test_wallet

MESSAGE = encode_defunct(text="fuzzydice.test wants you to sign in with your Ethereum account")
MESSAGE_HASH = _hash_eip191_message(MESSAGE)


def test_magic_value_is_the_selector_of_isValidSignature() -> None:
    from eth_utils import keccak

    assert MAGIC_VALUE == keccak(text="isValidSignature(bytes32,bytes)")[:4] == bytes.fromhex("1626ba7e")


def test_owner_signature_is_valid(chain, anvil, test_wallet, wallet_owner) -> None:
    signature = wallet_owner.sign_message(MESSAGE).signature
    assert chain.is_valid_signature(anvil.chain_id, test_wallet, MESSAGE_HASH, signature) is True


def test_owner_signature_via_unsafe_sign_hash_is_valid(chain, anvil, test_wallet, wallet_owner) -> None:
    signature = Account.unsafe_sign_hash(MESSAGE_HASH, wallet_owner.key).signature
    assert chain.is_valid_signature(anvil.chain_id, test_wallet, MESSAGE_HASH, signature) is True


def test_another_keys_signature_is_invalid(chain, anvil, test_wallet) -> None:
    stranger = Account.create()
    signature = stranger.sign_message(MESSAGE).signature
    assert chain.is_valid_signature(anvil.chain_id, test_wallet, MESSAGE_HASH, signature) is False


def test_owner_signature_over_another_hash_is_invalid(chain, anvil, test_wallet, wallet_owner) -> None:
    signature = wallet_owner.sign_message(encode_defunct(text="something else")).signature
    assert chain.is_valid_signature(anvil.chain_id, test_wallet, MESSAGE_HASH, signature) is False


@pytest.mark.parametrize(
    "mangle",
    [
        lambda sig: b"",
        lambda sig: sig[:64],  # r, s without v
        lambda sig: sig + b"\x00",  # 66 bytes
        lambda sig: b"\x00" * 65,
        lambda sig: sig[:64] + b"\x1d",  # v = 29
        lambda sig: b"\xff" * 200,  # the wallet reverts
    ],
    ids=["empty", "64-bytes", "66-bytes", "zeros", "bad-v", "long-junk"],
)
def test_malformed_signature_is_invalid(chain, anvil, test_wallet, wallet_owner, mangle) -> None:
    signature = wallet_owner.sign_message(MESSAGE).signature
    assert chain.is_valid_signature(anvil.chain_id, test_wallet, MESSAGE_HASH, mangle(signature)) is False


def test_malleable_high_s_twin_is_invalid(chain, anvil, test_wallet, wallet_owner) -> None:
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    signed = wallet_owner.sign_message(MESSAGE)
    twin = signed.r.to_bytes(32, "big") + (n - signed.s).to_bytes(32, "big") + bytes([55 - signed.v])
    assert chain.is_valid_signature(anvil.chain_id, test_wallet, MESSAGE_HASH, twin) is False


def test_address_without_code_is_invalid(chain, anvil, wallet_owner) -> None:
    signature = wallet_owner.sign_message(MESSAGE).signature
    assert chain.is_valid_signature(anvil.chain_id, wallet_owner.address, MESSAGE_HASH, signature) is False


def test_malformed_address_is_invalid(chain, anvil, wallet_owner) -> None:
    signature = wallet_owner.sign_message(MESSAGE).signature
    assert chain.is_valid_signature(anvil.chain_id, "not-an-address", MESSAGE_HASH, signature) is False


def test_a_hash_that_is_not_32_bytes_is_a_caller_bug(chain, anvil, test_wallet) -> None:
    with pytest.raises(ValueError):
        chain.is_valid_signature(anvil.chain_id, test_wallet, b"\x00" * 31, b"")


def test_wallet_on_another_chain_is_unknown_there(chain, chain_settings, anvil, test_wallet, wallet_owner) -> None:
    """Same address, other chain without the deployment: no code, so not valid."""
    signature = wallet_owner.sign_message(MESSAGE).signature
    with start_anvil(chain_id=8453) as l2:
        chain_settings.chains = {anvil.chain_id: anvil.url, 8453: l2.url}
        assert chain.code_at(8453, test_wallet) == b""
        assert chain.is_valid_signature(8453, test_wallet, MESSAGE_HASH, signature) is False
        assert chain.is_valid_signature(anvil.chain_id, test_wallet, MESSAGE_HASH, signature) is True


def test_wallet_deployed_with_a_private_key_works(chain, anvil, wallet_owner) -> None:
    wallet = deploy_test_wallet(anvil.url, wallet_owner.address, deployer_private_key=ANVIL_DEFAULT_KEY)
    signature = wallet_owner.sign_message(MESSAGE).signature
    assert chain.is_valid_signature(anvil.chain_id, wallet, MESSAGE_HASH, signature) is True
