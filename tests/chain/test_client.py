"""The chain client of `Services` against a real anvil: code, EIP-1271, one cached provider per chain, fast refusals."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_defunct

from fuzzydice.chain.client import Web3ChainClient
from fuzzydice.chain.devchain import DevChain, free_port
from fuzzydice.chain.eip1271 import ChainUnavailable
from fuzzydice.services import Services
from tests.conftest import run_in_parallel

MESSAGE = encode_defunct(text="fuzzydice.test wants you to sign in with your Ethereum account")
DIGEST = _hash_eip191_message(MESSAGE)


@pytest.fixture
def chain(services: Services, anvil: DevChain) -> Web3ChainClient:
    """The services' own chain client, with the session's anvil as the only chain."""
    services.settings.chains = {anvil.chain_id: anvil.url}
    assert isinstance(services.chain, Web3ChainClient)
    return services.chain


def test_code_at_an_eoa_is_empty_and_at_the_wallet_is_its_code(chain, anvil, test_wallet, wallet_owner) -> None:
    assert chain.code_at(anvil.chain_id, wallet_owner.address) == b""
    code = chain.code_at(anvil.chain_id, test_wallet)
    assert len(code) > 100 and isinstance(code, bytes)
    assert chain.code_at(anvil.chain_id, test_wallet.lower()) == code


def test_code_at_a_malformed_address_is_a_caller_bug(chain, anvil) -> None:
    with pytest.raises(ValueError):
        chain.code_at(anvil.chain_id, "0x1234")


def test_the_owners_signature_is_accepted_and_others_are_not(chain, anvil, test_wallet, wallet_owner) -> None:
    signature = wallet_owner.sign_message(MESSAGE).signature
    assert chain.is_valid_signature(anvil.chain_id, test_wallet, DIGEST, signature) is True
    stranger = Account.create().sign_message(MESSAGE).signature
    assert chain.is_valid_signature(anvil.chain_id, test_wallet, DIGEST, stranger) is False
    other_digest = _hash_eip191_message(encode_defunct(text="something else"))
    assert chain.is_valid_signature(anvil.chain_id, test_wallet, other_digest, signature) is False
    assert chain.is_valid_signature(anvil.chain_id, test_wallet, DIGEST, b"\xff" * 200) is False  # reverts
    assert chain.is_valid_signature(anvil.chain_id, wallet_owner.address, DIGEST, signature) is False  # no code
    assert chain.is_valid_signature(anvil.chain_id, "not-an-address", DIGEST, signature) is False
    with pytest.raises(ValueError):
        chain.is_valid_signature(anvil.chain_id, test_wallet, DIGEST[:31], signature)


def test_one_provider_serves_every_call_of_a_chain(chain, anvil, test_wallet, wallet_owner) -> None:
    first = chain.web3(anvil.chain_id)
    signature = wallet_owner.sign_message(MESSAGE).signature
    assert chain.code_at(anvil.chain_id, test_wallet)
    assert chain.is_valid_signature(anvil.chain_id, test_wallet, DIGEST, signature)
    assert chain.web3(anvil.chain_id) is first
    assert chain.web3(anvil.chain_id).provider is first.provider

    results = run_in_parallel(lambda: chain.is_valid_signature(anvil.chain_id, test_wallet, DIGEST, signature))
    assert results == [True] * 20  # twenty threads at once, one provider
    assert chain.web3(anvil.chain_id) is first


def test_a_new_url_in_settings_gets_a_new_provider(chain, services, anvil, test_wallet) -> None:
    first = chain.web3(anvil.chain_id)
    services.settings.chains = {anvil.chain_id: anvil.url.replace("127.0.0.1", "localhost")}
    second = chain.web3(anvil.chain_id)
    assert second is not first
    assert chain.code_at(anvil.chain_id, test_wallet)
    assert chain.web3(anvil.chain_id) is second


def test_a_chain_the_settings_do_not_name_is_unavailable(chain, test_wallet) -> None:
    with pytest.raises(ChainUnavailable):
        chain.code_at(8453, test_wallet)
    with pytest.raises(ChainUnavailable):
        chain.is_valid_signature(8453, test_wallet, DIGEST, b"")


def test_an_endpoint_serving_another_chain_is_unavailable(chain, services, anvil, test_wallet) -> None:
    """A misconfigured URL (anvil is chain 31337) never answers for chain 8453."""
    services.settings.chains = {8453: anvil.url}
    with pytest.raises(ChainUnavailable, match="serves chain 31337"):
        chain.code_at(8453, test_wallet)


def test_a_refused_connection_is_unavailable_at_once(chain, services, test_wallet, wallet_owner) -> None:
    dead = f"http://127.0.0.1:{free_port()}/v3/an-api-key"
    services.settings.chains = {31337: dead}
    signature = wallet_owner.sign_message(MESSAGE).signature
    started = time.monotonic()
    with pytest.raises(ChainUnavailable) as refused:
        chain.is_valid_signature(31337, test_wallet, DIGEST, signature)
    with pytest.raises(ChainUnavailable):
        chain.code_at(31337, test_wallet)
    assert time.monotonic() - started < 1  # no retries with backoff
    assert "an-api-key" not in str(refused.value) and refused.value.__cause__ is None  # the URL stays out


def test_a_silent_endpoint_is_unavailable_after_the_timeout(chain, services, silent_endpoint, test_wallet) -> None:
    services.settings.chains = {31337: silent_endpoint}
    services.settings.chain_rpc_timeout = timedelta(seconds=0.5)
    started = time.monotonic()
    with pytest.raises(ChainUnavailable):
        chain.code_at(31337, test_wallet)
    elapsed = time.monotonic() - started
    assert 0.4 < elapsed < 1.5, elapsed  # one bounded wait, no retries
