"""The demo faucet under attack: racing requests for one address, one account's many wallets, others' addresses."""

from __future__ import annotations

import sqlalchemy as sa

from fuzzydice import audit
from fuzzydice.chain.networks import DEMO_L1_CHAIN_ID, DEMO_L2_CHAIN_ID
from fuzzydice.funding.faucet import request_funds
from fuzzydice.models import FaucetGrant as GrantRow
from fuzzydice.outcome import Code
from tests.conftest import run_in_parallel
from tests.funding_fixtures import TOKEN_DECIMALS, balances, link_wallet, one_grant, with_settings


def grants_of(services, user_id):
    with services.db() as session:
        return session.execute(sa.select(GrantRow).where(GrantRow.user_id == user_id)).scalars().all()


def test_parallel_requests_for_one_address_send_once(faucet_services, wallet_user, demo_chain_settings):
    user = wallet_user()
    results = run_in_parallel(
        lambda: request_funds(faucet_services, user.user_id, user.address, DEMO_L1_CHAIN_ID), workers=10
    )
    assert sum(r.ok for r in results) == 1
    assert {r.code for r in results if not r.ok} == {Code.FAUCET_USED}
    assert len(grants_of(faucet_services, user.user_id)) == 1
    assert balances(demo_chain_settings[DEMO_L1_CHAIN_ID], user.address) == one_grant(TOKEN_DECIMALS)


def test_parallel_requests_over_many_wallets_stop_at_the_accounts_limit(faucet_services, wallet_user, demo_chain_settings):
    user = wallet_user()
    wallets = [user.address, *(link_wallet(faucet_services, user.user_id) for _ in range(5))]
    limited = with_settings(faucet_services, faucet_grants_per_user=3)
    requests = iter([(address, chain) for address in wallets for chain in (DEMO_L1_CHAIN_ID, DEMO_L2_CHAIN_ID)])

    def ask():
        address, chain = next(requests)
        return request_funds(limited, user.user_id, address, chain)

    results = run_in_parallel(ask, workers=12)
    assert sum(r.ok for r in results) == 3
    assert {r.code for r in results if not r.ok} == {Code.FAUCET_LIMIT}
    assert sorted(row.user_slot for row in grants_of(faucet_services, user.user_id)) == [0, 1, 2]
    eth_sent = sum(balances(demo_chain_settings[chain], address)["ETH"]
                   for address in wallets for chain in (DEMO_L1_CHAIN_ID, DEMO_L2_CHAIN_ID))
    assert eth_sent == 3 * 10**18


def test_parallel_grants_to_different_wallets_all_arrive(faucet_services, wallet_user, demo_chain_settings):
    # The node assigns the faucet account's nonces: racing grants never collide on one.
    users = iter([wallet_user() for _ in range(6)])

    def ask():
        user = next(users)
        return user, request_funds(faucet_services, user.user_id, user.address, DEMO_L2_CHAIN_ID)

    results = run_in_parallel(ask, workers=6)
    assert all(outcome.ok for _, outcome in results), [o for _, o in results if not o.ok]
    for user, _ in results:
        assert balances(demo_chain_settings[DEMO_L2_CHAIN_ID], user.address) == one_grant(TOKEN_DECIMALS)


def test_someone_elses_address_is_refused_and_costs_them_nothing(faucet_services, wallet_user, demo_chain_settings):
    victim, attacker = wallet_user(), wallet_user()
    for chain in (DEMO_L1_CHAIN_ID, DEMO_L2_CHAIN_ID):
        for spelled in (victim.address, victim.address.lower(), "0x" + victim.address[2:].upper()):
            refused = request_funds(faucet_services, attacker.user_id, spelled, chain)
            assert not refused.ok and refused.code == Code.WRONG_WALLET
    assert grants_of(faucet_services, attacker.user_id) == [] and grants_of(faucet_services, victim.user_id) == []
    assert [e for e in audit.events(faucet_services, victim.user_id) if e.action == "funds_requested"] == []
    assert balances(demo_chain_settings[DEMO_L1_CHAIN_ID], victim.address)["ETH"] == 0
    # The victim's own day is untouched.
    assert request_funds(faucet_services, victim.user_id, victim.address, DEMO_L1_CHAIN_ID).ok
