"""The demo faucet on real anvil chains: what it sends, once per address per chain per day, to own wallets only."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import sqlalchemy as sa
from web3 import HTTPProvider, Web3

from fuzzydice import audit
from fuzzydice.chain.amounts import to_decimal
from fuzzydice.chain.devchain import start_anvil
from fuzzydice.chain.networks import DEMO_L1_CHAIN_ID, DEMO_L2_CHAIN_ID
from fuzzydice.chain.faucet_sender import FaucetSendError
from fuzzydice.funding.faucet import faucet_networks, next_available, request_funds, reservation_lifetime
from fuzzydice.maintenance import delete_expired_rows
from fuzzydice.models import FaucetGrant as GrantRow
from fuzzydice.outcome import Code
from fuzzydice.ui.messages import field_messages, say
from tests.funding_fixtures import TOKEN_DECIMALS, balances, link_wallet, one_grant, with_settings

CHAINS = (DEMO_L1_CHAIN_ID, DEMO_L2_CHAIN_ID)
NEXT_MIDNIGHT = datetime(2026, 1, 2, tzinfo=timezone.utc)
"""The test clock starts at 2026-01-01 00:00 UTC."""


def grant_rows(services):
    with services.db() as session:
        return session.execute(sa.select(GrantRow).order_by(GrantRow.id)).scalars().all()


def faucet_entries(services, user_id):
    return [(e.result, e.details) for e in audit.events(services, user_id) if e.action == "funds_requested"]


def test_a_grant_sends_eth_and_each_token_on_both_chains(faucet_services, wallet_user, demo_chain_settings):
    user = wallet_user()
    for chain_id in CHAINS:
        outcome = request_funds(faucet_services, user.user_id, user.address, chain_id)
        assert outcome.ok, outcome
        grant = outcome.value
        assert (grant.chain_id, grant.address, grant.next_at) == (chain_id, user.address, NEXT_MIDNIGHT)
        assert [(t.symbol, t.amount) for t in grant.transfers] == [
            ("ETH", Decimal(1)), ("DICE", Decimal(1000)), ("fUSD", Decimal(1000)), ("fWETH", Decimal(1000)),
        ]
        assert balances(demo_chain_settings[chain_id], user.address) == one_grant(TOKEN_DECIMALS)
        w3 = Web3(HTTPProvider(demo_chain_settings[chain_id]))
        for transfer in grant.transfers:  # the hashes given back are the mined transfers
            receipt = w3.eth.get_transaction_receipt(transfer.tx_hash)
            assert receipt["status"] == 1
            assert receipt["to"] == (transfer.token or user.address)
    rows = grant_rows(faucet_services)
    assert [(r.chain_id, r.address, r.sent_at is not None, len(r.transfers or "")) for r in rows] == [
        (DEMO_L1_CHAIN_ID, user.address, True, len(rows[0].transfers)),
        (DEMO_L2_CHAIN_ID, user.address, True, len(rows[1].transfers)),
    ]
    assert all(r.transfers for r in rows)
    assert faucet_entries(faucet_services, user.user_id) == [
        ("ok", {"chain_id": DEMO_L2_CHAIN_ID, "address": user.address, "transfers": 4}),
        ("ok", {"chain_id": DEMO_L1_CHAIN_ID, "address": user.address, "transfers": 4}),
    ]


def test_a_second_request_the_same_day_waits_for_the_next_day(faucet_services, clock, wallet_user, demo_chain_settings):
    user = wallet_user()
    assert request_funds(faucet_services, user.user_id, user.address, DEMO_L1_CHAIN_ID).ok
    assert next_available(faucet_services, user.user_id, user.address, DEMO_L1_CHAIN_ID) == NEXT_MIDNIGHT
    assert next_available(faucet_services, user.user_id, user.address, DEMO_L2_CHAIN_ID) is None

    clock.advance(timedelta(hours=20))
    refused = request_funds(faucet_services, user.user_id, user.address.lower(), DEMO_L1_CHAIN_ID)
    assert not refused.ok and refused.code == Code.FAUCET_USED and refused.retry_at == NEXT_MIDNIGHT
    assert say(refused, now=clock.now()) == (
        "This wallet already received test funds on this network today. "
        "It is available again in 4 hours (at 00:00 UTC)."
    )
    assert balances(demo_chain_settings[DEMO_L1_CHAIN_ID], user.address) == one_grant(TOKEN_DECIMALS)

    clock.advance(NEXT_MIDNIGHT - clock.now() - timedelta(seconds=1))
    assert request_funds(faucet_services, user.user_id, user.address, DEMO_L1_CHAIN_ID).code == Code.FAUCET_USED
    clock.advance(timedelta(seconds=1))  # the next day
    assert next_available(faucet_services, user.user_id, user.address, DEMO_L1_CHAIN_ID) is None
    again = request_funds(faucet_services, user.user_id, user.address, DEMO_L1_CHAIN_ID)
    assert again.ok and again.value.next_at == NEXT_MIDNIGHT + timedelta(days=1)
    assert balances(demo_chain_settings[DEMO_L1_CHAIN_ID], user.address) == one_grant(TOKEN_DECIMALS, times=2)


def test_only_the_accounts_own_wallets_are_served(faucet_services, wallet_user, demo_chain_settings):
    owner, other = wallet_user(), wallet_user()
    refused = request_funds(faucet_services, other.user_id, owner.address, DEMO_L1_CHAIN_ID)
    assert not refused.ok and refused.code == Code.WRONG_WALLET
    nobody = "0x" + "ab" * 20
    assert request_funds(faucet_services, other.user_id, nobody, DEMO_L1_CHAIN_ID).code == Code.WRONG_WALLET
    assert balances(demo_chain_settings[DEMO_L1_CHAIN_ID], owner.address)["ETH"] == 0
    assert grant_rows(faucet_services) == []
    # The refusal used nothing of the owner's: they are served at once.
    assert request_funds(faucet_services, owner.user_id, owner.address, DEMO_L1_CHAIN_ID).ok


def test_bad_input_is_named_field_by_field(faucet_services, wallet_user):
    user = wallet_user()
    cases = {
        ("0x1234", DEMO_L1_CHAIN_ID): {"address": "The wallet gave an unusable address. An address is 0x followed by 40 hexadecimal digits."},
        ("0x804a08596C51C3cF71dbDB8AbBBB9626Cbe0B76f", DEMO_L1_CHAIN_ID): {  # one letter's case flipped
            "address": "The wallet gave an address with a wrong checksum (a typo in its upper/lower case letters)."
        },
        (user.address, 1): {"chain_id": "Choose one of the networks offered."},
        (user.address, "31337"): {"chain_id": "Choose one of the networks offered."},
        (None, None): {
            "address": "The wallet gave an unusable address. An address is 0x followed by 40 hexadecimal digits.",
            "chain_id": "Choose one of the networks offered.",
        },
    }
    for (address, chain_id), expected in cases.items():
        outcome = request_funds(faucet_services, user.user_id, address, chain_id)
        assert not outcome.ok and outcome.code == Code.INVALID_INPUT
        assert field_messages(outcome) == expected
    assert grant_rows(faucet_services) == []


def test_no_faucet_in_production_or_on_a_chain_that_is_not_a_test_chain(faucet_services, wallet_user, demo_chain_settings):
    user = wallet_user()
    production = with_settings(faucet_services, mode="production")
    assert faucet_networks(production.settings) == ()
    refused = request_funds(production, user.user_id, user.address, DEMO_L1_CHAIN_ID)
    assert refused.code == Code.FAUCET_OFF and "no faucet" in say(refused)

    # Ethereum (chain 1) in force on a demo server: a real chain, never served.
    with_mainnet = with_settings(faucet_services, chains={**demo_chain_settings, 1: "http://127.0.0.1:9"})
    assert [n.chain_id for n in faucet_networks(with_mainnet.settings)] == list(CHAINS)
    assert request_funds(with_mainnet, user.user_id, user.address, 1).code == Code.FAUCET_OFF
    assert grant_rows(faucet_services) == []


def test_a_failed_send_uses_nothing_up(faucet_services, clock, wallet_user, demo_chain_settings):
    user = wallet_user()
    stopped = start_anvil(chain_id=DEMO_L2_CHAIN_ID)
    stopped.stop()  # the L2 went down: nothing answers at its URL any more
    down = with_settings(faucet_services, chains={**demo_chain_settings, DEMO_L2_CHAIN_ID: stopped.url})
    failed = request_funds(down, user.user_id, user.address, DEMO_L2_CHAIN_ID)
    assert not failed.ok and failed.code == Code.FAUCET_SEND_FAILED
    assert "Nothing was used up" in say(failed)
    assert grant_rows(down) == []
    assert next_available(down, user.user_id, user.address, DEMO_L2_CHAIN_ID) is None
    assert faucet_entries(faucet_services, user.user_id) == [
        ("failed", {"chain_id": DEMO_L2_CHAIN_ID, "address": user.address}),
    ]
    # The chain is back (the session's L2): the same address is served the same day.
    assert request_funds(faucet_services, user.user_id, user.address, DEMO_L2_CHAIN_ID).ok
    assert balances(demo_chain_settings[DEMO_L2_CHAIN_ID], user.address) == one_grant(TOKEN_DECIMALS)


def test_a_chain_without_the_faucets_funds_uses_nothing_up(faucet_services, clock, wallet_user, demo_chain_settings):
    user = wallet_user()
    with start_anvil(chain_id=DEMO_L1_CHAIN_ID) as bare:  # never deployed: the faucet account holds nothing
        empty = with_settings(faucet_services, chains={**demo_chain_settings, DEMO_L1_CHAIN_ID: bare.url})
        failed = request_funds(empty, user.user_id, user.address, DEMO_L1_CHAIN_ID)
    assert failed.code == Code.FAUCET_SEND_FAILED
    assert grant_rows(faucet_services) == []


def test_an_account_with_many_wallets_takes_its_limit_per_day(faucet_services, clock, demo_chain_settings, wallet_user):
    user = wallet_user()
    more = [link_wallet(faucet_services, user.user_id) for _ in range(2)]
    limited = with_settings(faucet_services, faucet_grants_per_user=3)
    served = [
        request_funds(limited, user.user_id, address, chain_id)
        for address in (user.address, *more) for chain_id in CHAINS
    ]
    assert [o.ok for o in served] == [True, True, True, False, False, False]
    assert {o.code for o in served[3:]} == {Code.FAUCET_LIMIT}
    assert served[3].retry_at == NEXT_MIDNIGHT
    assert "all the test funds it may take today" in say(served[3], now=clock.now())
    assert next_available(limited, user.user_id, more[1], DEMO_L1_CHAIN_ID) == NEXT_MIDNIGHT
    assert balances(demo_chain_settings[DEMO_L2_CHAIN_ID], more[1])["ETH"] == 0

    clock.advance(timedelta(days=1))
    assert request_funds(limited, user.user_id, more[1], DEMO_L2_CHAIN_ID).ok


def test_the_amounts_come_from_settings(faucet_services, clock, wallet_user, demo_chain_settings):
    user = wallet_user()
    custom = with_settings(faucet_services, faucet_native_amount=Decimal("0.25"), faucet_token_amount=Decimal("12.5"))
    assert request_funds(custom, user.user_id, user.address, DEMO_L1_CHAIN_ID).ok
    held = balances(demo_chain_settings[DEMO_L1_CHAIN_ID], user.address)
    assert held == {
        "ETH": 25 * 10**16, **{symbol: 125 * 10 ** (decimals - 1) for symbol, decimals in TOKEN_DECIMALS.items()}
    }


def test_amounts_with_more_digits_than_decimal_arithmetic_keeps_are_sent_exactly(
    faucet_services, clock, wallet_user, demo_chain_settings
):
    user = wallet_user()
    amount = Decimal("12345678901.123456789012345678")  # 29 significant digits
    custom = with_settings(faucet_services, faucet_token_amount=amount)
    granted = request_funds(custom, user.user_id, user.address, DEMO_L1_CHAIN_ID)
    assert granted.ok, granted
    held = balances(demo_chain_settings[DEMO_L1_CHAIN_ID], user.address)
    for symbol, decimals in TOKEN_DECIMALS.items():
        exact = 12_345_678_901_123_456_789_012_345_678 // 10 ** (18 - decimals)  # cut below the smallest unit
        assert held[symbol] == exact
        [sent] = [t for t in granted.value.transfers if t.symbol == symbol]
        assert sent.amount == to_decimal(exact, decimals)


def test_the_default_policy(faucet_services):
    settings = faucet_services.settings
    assert settings.faucet_period == timedelta(days=1)
    assert (settings.faucet_native_amount, settings.faucet_token_amount) == (Decimal(1), Decimal(1000))


def test_a_reservation_a_crash_left_unsent_is_released_by_the_cleanup(faucet_services, clock, wallet_user, demo_chain_settings):
    """A process that died mid-send never gives its reservation back: the cleanup does, once no send can still run."""
    user = wallet_user()
    sending, crashed = threading.Event(), threading.Event()

    class DiesMidSend:
        def send(self, network, to, payments, *, timeout):
            sending.set()
            crashed.wait(10)  # the process is gone: this send never returns
            raise FaucetSendError("never reached in a real crash")

    stuck = threading.Thread(
        target=request_funds, args=(faucet_services, user.user_id, user.address, DEMO_L1_CHAIN_ID),
        kwargs={"sender": DiesMidSend()}, daemon=True,
    )
    stuck.start()
    try:
        assert sending.wait(10)
        [row] = grant_rows(faucet_services)
        assert row.sent_at is None
        assert request_funds(faucet_services, user.user_id, user.address, DEMO_L1_CHAIN_ID).code == Code.FAUCET_USED

        clock.advance(reservation_lifetime(faucet_services.settings))  # a send may still be under way
        assert delete_expired_rows(faucet_services)["faucet_grants"] == 0
        assert len(grant_rows(faucet_services)) == 1

        clock.advance(timedelta(seconds=1))
        assert delete_expired_rows(faucet_services)["faucet_grants"] == 1
        assert grant_rows(faucet_services) == []
        assert ("failed", {"chain_id": DEMO_L1_CHAIN_ID, "address": user.address, "abandoned": True}) in (
            faucet_entries(faucet_services, user.user_id)
        )
        assert next_available(faucet_services, user.user_id, user.address, DEMO_L1_CHAIN_ID) is None
        assert request_funds(faucet_services, user.user_id, user.address, DEMO_L1_CHAIN_ID).ok
    finally:
        crashed.set()
        stuck.join(10)


def test_the_cleanup_keeps_completed_grants(faucet_services, clock, wallet_user, demo_chain_settings):
    user = wallet_user()
    assert request_funds(faucet_services, user.user_id, user.address, DEMO_L1_CHAIN_ID).ok
    clock.advance(reservation_lifetime(faucet_services.settings) * 2)
    assert delete_expired_rows(faucet_services)["faucet_grants"] == 0
    assert request_funds(faucet_services, user.user_id, user.address, DEMO_L1_CHAIN_ID).code == Code.FAUCET_USED
