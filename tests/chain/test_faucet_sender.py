"""The anvil faucet sender on the deployed demo chains: payments arrive, failures are FaucetSendError, bounded."""

from __future__ import annotations

import time

import pytest
from eth_account import Account
from web3 import HTTPProvider, Web3

from fuzzydice.chain.devchain import start_anvil
from fuzzydice.chain.faucet_sender import AnvilFaucetSender, FaucetSendError, Payment, sending_alone
from fuzzydice.chain.networks import DEMO_DEPLOYER, DEMO_NETWORKS, demo_tokens
from tests.conftest import run_in_parallel
from tests.funding_fixtures import balances

L1, L2 = DEMO_NETWORKS


def on(network, url):
    return network.model_copy(update={"rpc_url": url})


def test_payments_arrive_and_their_hashes_come_back_in_order(demo_chain_settings):
    network = on(L2, demo_chain_settings[L2.chain_id])
    to = Account.create().address
    dice, fusd, _ = demo_tokens()
    payments = [Payment("ETH", 5), Payment("fUSD", 7, fusd.address), Payment("DICE", 11, dice.address)]
    hashes = AnvilFaucetSender().send(network, to, payments, timeout=10)
    held = balances(network.rpc_url, to)
    assert (held["ETH"], held["fUSD"], held["DICE"], held["fWETH"]) == (5, 7, 11, 0)
    w3 = Web3(HTTPProvider(network.rpc_url))
    assert [w3.eth.get_transaction(h)["to"] for h in hashes] == [to, fusd.address, dice.address]
    assert all(w3.eth.get_transaction(h)["from"] == DEMO_DEPLOYER for h in hashes)


def test_an_endpoint_serving_another_chain_is_refused_before_sending(demo_chain_settings):
    wrong = on(L1, demo_chain_settings[L2.chain_id])  # the L1 described, the L2 answering
    to = Account.create().address
    with pytest.raises(FaucetSendError, match="serves chain 31338"):
        AnvilFaucetSender().send(wrong, to, [Payment("ETH", 1)], timeout=10)
    assert balances(demo_chain_settings[L2.chain_id], to)["ETH"] == 0


def test_a_stopped_chain_fails_without_naming_its_url():
    chain = start_anvil(chain_id=L1.chain_id)
    chain.stop()
    network = on(L1, f"{chain.url}/v3/secret-api-key")
    with pytest.raises(FaucetSendError) as raised:
        AnvilFaucetSender().send(network, Account.create().address, [Payment("ETH", 1)], timeout=10)
    assert "secret-api-key" not in str(raised.value) and str(chain.url) not in str(raised.value)
    with pytest.raises(FaucetSendError):
        AnvilFaucetSender().send(on(L1, None), Account.create().address, [Payment("ETH", 1)], timeout=10)


def test_a_silent_chain_fails_within_the_rpc_timeout(silent_endpoint):
    started = time.monotonic()
    with pytest.raises(FaucetSendError):
        AnvilFaucetSender(rpc_timeout=0.5).send(
            on(L1, silent_endpoint.url), Account.create().address, [Payment("ETH", 1)], timeout=10
        )
    assert time.monotonic() - started < 5
    assert silent_endpoint.connections()  # it did try


def test_grants_sent_at_the_same_moment_each_get_their_own_nonces(demo_chain_settings):
    # Anvil gives two sends arriving together one nonce (one is refused or replaced): the lock file
    # makes grants send one after the other; every thread opens it itself, as worker processes do.
    network = on(L1, demo_chain_settings[L1.chain_id])
    fweth = demo_tokens()[2]
    recipients = iter([Account.create().address for _ in range(12)])

    def grant():
        to = next(recipients)
        payments = [Payment("ETH", 1), *(Payment("fWETH", 1, fweth.address) for _ in range(7))]
        return to, AnvilFaucetSender().send(network, to, payments, timeout=20)

    for to, hashes in run_in_parallel(grant, workers=12):
        assert len(set(hashes)) == 8
        held = balances(network.rpc_url, to)
        assert (held["ETH"], held["fWETH"]) == (1, 7)


def test_a_grant_waits_for_the_chains_send_lock_and_gives_up_in_time(demo_chain_settings):
    network = on(L2, demo_chain_settings[L2.chain_id])
    to = Account.create().address
    with sending_alone(network.rpc_url, DEMO_DEPLOYER, timeout=1):  # another grant, stuck
        started = time.monotonic()
        with pytest.raises(FaucetSendError, match="busy"):
            AnvilFaucetSender().send(network, to, [Payment("ETH", 1)], timeout=0.3)
        assert time.monotonic() - started < 3
    assert balances(network.rpc_url, to)["ETH"] == 0
    AnvilFaucetSender().send(network, to, [Payment("ETH", 1)], timeout=10)  # released: it goes through
    assert balances(network.rpc_url, to)["ETH"] == 1
