"""The chain client against a real anvil: code at an address, one cached provider per chain, refusals without retries.

Its EIP-1271 answers are in test_eip1271.py. No test here opens a database, so each runs once.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_defunct

from fuzzydice.chain.client import Web3ChainClient
from fuzzydice.chain.devchain import free_port
from fuzzydice.chain.eip1271 import ChainUnavailable
from fuzzydice.chain.testing import ANVIL_DEFAULT_KEY
from tests.conftest import run_in_parallel

MESSAGE = encode_defunct(text="fuzzydice.test wants you to sign in with your Ethereum account")
DIGEST = _hash_eip191_message(MESSAGE)


def provider_of(chain: Web3ChainClient, chain_id: int):
    """The HTTPProvider the client holds for `chain_id`."""
    return chain._connection(chain_id).web3.provider


def test_code_at_an_eoa_is_empty_and_at_the_wallet_is_its_code(chain, anvil, test_wallet, wallet_owner) -> None:
    assert chain.code_at(anvil.chain_id, wallet_owner.address) == b""
    assert chain.code_at(anvil.chain_id, Account.from_key(ANVIL_DEFAULT_KEY).address) == b""  # funded, still no code
    code = chain.code_at(anvil.chain_id, test_wallet)
    assert len(code) > 100 and isinstance(code, bytes)
    assert chain.code_at(anvil.chain_id, test_wallet.lower()) == code


def test_code_at_a_malformed_address_is_a_caller_bug(chain, anvil) -> None:
    with pytest.raises(ValueError):
        chain.code_at(anvil.chain_id, "0x1234")


def test_one_provider_serves_every_call_of_a_chain(chain, anvil, test_wallet, wallet_owner) -> None:
    first = chain._connection(anvil.chain_id).web3
    signature = wallet_owner.sign_message(MESSAGE).signature
    assert chain.code_at(anvil.chain_id, test_wallet)
    assert chain.is_valid_signature(anvil.chain_id, test_wallet, DIGEST, signature)
    assert chain._connection(anvil.chain_id).web3 is first
    assert provider_of(chain, anvil.chain_id) is first.provider

    results = run_in_parallel(lambda: chain.is_valid_signature(anvil.chain_id, test_wallet, DIGEST, signature))
    assert results == [True] * 20  # twenty threads at once, one provider
    assert chain._connection(anvil.chain_id).web3 is first


def test_a_new_url_in_settings_gets_a_new_provider(chain, chain_settings, anvil, test_wallet) -> None:
    first = chain._connection(anvil.chain_id).web3
    chain_settings.chains = {anvil.chain_id: anvil.url.replace("127.0.0.1", "localhost")}
    second = chain._connection(anvil.chain_id).web3
    assert second is not first
    assert chain.code_at(anvil.chain_id, test_wallet)
    assert chain._connection(anvil.chain_id).web3 is second


def test_a_chain_the_settings_do_not_name_is_unavailable(chain, test_wallet) -> None:
    with pytest.raises(ChainUnavailable):
        chain.code_at(8453, test_wallet)
    with pytest.raises(ChainUnavailable):
        chain.is_valid_signature(8453, test_wallet, DIGEST, b"")


def test_an_endpoint_serving_another_chain_is_unavailable(chain, chain_settings, anvil, test_wallet) -> None:
    """A misconfigured URL (anvil is chain 31337) never answers for chain 8453."""
    chain_settings.chains = {8453: anvil.url}
    with pytest.raises(ChainUnavailable, match="serves chain 31337"):
        chain.code_at(8453, test_wallet)


def test_a_refused_connection_is_unavailable_without_retries(chain, chain_settings, test_wallet, wallet_owner) -> None:
    """Nothing listens, so attempts cannot be counted from the other side: the provider's retry switch is read back."""
    dead = f"http://127.0.0.1:{free_port()}/v3/an-api-key"
    chain_settings.chains = {31337: dead}
    signature = wallet_owner.sign_message(MESSAGE).signature
    with pytest.raises(ChainUnavailable) as refused:
        chain.is_valid_signature(31337, test_wallet, DIGEST, signature)
    with pytest.raises(ChainUnavailable):
        chain.code_at(31337, test_wallet)
    assert "an-api-key" not in str(refused.value) and refused.value.__cause__ is None  # the URL stays out
    provider = provider_of(chain, 31337)
    assert provider.endpoint_uri == dead
    assert provider.exception_retry_configuration is None  # web3.py would retry 5 times with backoff


def test_a_silent_endpoint_gets_one_connection_per_call_and_the_configured_timeout(
    chain, chain_settings, silent_endpoint, test_wallet, wallet_owner
) -> None:
    chain_settings.chains = {31337: silent_endpoint.url}
    chain_settings.chain_rpc_timeout = timedelta(seconds=0.3)
    with pytest.raises(ChainUnavailable):
        chain.code_at(31337, test_wallet)
    assert len(silent_endpoint.connections()) == 1  # one request, no retry
    assert dict(provider_of(chain, 31337).get_request_kwargs())["timeout"] == 0.3

    with pytest.raises(ChainUnavailable):
        chain.is_valid_signature(31337, test_wallet, DIGEST, wallet_owner.sign_message(MESSAGE).signature)
    assert len(silent_endpoint.connections()) == 2

    chain_settings.chain_rpc_timeout = timedelta(seconds=0.2)  # a new timeout in settings reaches a new provider
    with pytest.raises(ChainUnavailable):
        chain.code_at(31337, test_wallet)
    assert len(silent_endpoint.connections()) == 3
    assert dict(provider_of(chain, 31337).get_request_kwargs())["timeout"] == 0.2
