"""The fund card's rows and words: faucet buttons in demo mode, payment requests without a faucet, help
without a wallet (no browser; the faucet runs on the session's real demo chains)."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from fuzzydice.chain.networks import DEMO_L1_CHAIN_ID, DEMO_L2_CHAIN_ID, PRODUCTION_NETWORKS
from fuzzydice.funding.faucet import FaucetGrant, SentFunds, request_funds
from fuzzydice.mfa.qr import qr_svg_data_uri
from fuzzydice.ui import fund_rows
from fuzzydice.ui.fund_rows import (
    FAUCET,
    NO_WALLET,
    RECEIVE,
    amount_words,
    clock_words,
    fund_view,
    funded_note,
    sent_words,
    waiting_note,
)
from tests.funding_fixtures import link_wallet, with_settings

NOON = datetime(2026, 1, 1, 12, 30, tzinfo=timezone.utc)
MIDNIGHT = datetime(2026, 1, 2, tzinfo=timezone.utc)


def test_clock_words_say_today_tomorrow_or_the_date():
    assert clock_words(datetime(2026, 1, 1, 15, 4, tzinfo=timezone.utc), NOON) == "15:04 UTC today"
    assert clock_words(MIDNIGHT, NOON) == "00:00 UTC tomorrow"
    assert clock_words(datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc), NOON) == "09:00 UTC on 2026-01-05"
    assert funded_note(MIDNIGHT, NOON) == "Funded — again after 00:00 UTC tomorrow"
    assert waiting_note(MIDNIGHT, NOON) == "Used today — again after 00:00 UTC tomorrow"


def test_amounts_are_whole_with_thousands_separated():
    assert amount_words(Decimal("1000.000000")) == "1,000"
    assert amount_words(Decimal("1")) == "1"
    assert amount_words(Decimal("0.50")) == "0.5"
    assert amount_words(Decimal("1234567.25")) == "1,234,567.25"
    assert amount_words(Decimal("0E-18")) == "0"
    # More digits than Decimal's 28: every one shown, none rounded.
    assert amount_words(Decimal("12345678901.123456789012345678")) == "12,345,678,901.123456789012345678"


def test_a_grant_in_a_sentence():
    address = "0x" + "ab" * 20
    sent = (
        SentFunds("ETH", Decimal(1), None, "0x1"),
        SentFunds("DICE", Decimal("1000.0"), "0x" + "11" * 20, "0x2"),
        SentFunds("fUSD", Decimal("1000.000000"), "0x" + "22" * 20, "0x3"),
    )
    grant = FaucetGrant(1, DEMO_L2_CHAIN_ID, address, NOON, MIDNIGHT, sent)
    assert sent_words(grant, "Local L2 (anvil)") == "Sent 1 ETH, 1,000 DICE and 1,000 fUSD to 0xabab…abab on Local L2 (anvil)."
    one = FaucetGrant(1, DEMO_L2_CHAIN_ID, address, NOON, MIDNIGHT, sent[:1])
    assert sent_words(one, "L") == "Sent 1 ETH to 0xabab…abab on L."


def test_an_account_without_a_wallet_is_told_how_to_get_one(services, make_user):
    assert fund_view(services, make_user()) == fund_rows.FundView(NO_WALLET)


def test_demo_mode_offers_each_wallet_on_each_local_chain_and_says_when_one_was_used(
    faucet_services, wallet_user, demo_chain_settings
):
    user = wallet_user()
    second = link_wallet(faucet_services, user.user_id)
    view = fund_view(faucet_services, user.user_id)
    assert view.mode == FAUCET and view.receive_rows == ()
    assert [(r.address, r.chain_id, r.label, r.note) for r in view.faucet_rows] == [
        (user.address, DEMO_L1_CHAIN_ID, "Get test ETH and tokens on Local Ethereum (anvil)", ""),
        (user.address, DEMO_L2_CHAIN_ID, "Get test ETH and tokens on Local L2 (anvil)", ""),
        (second, DEMO_L1_CHAIN_ID, "Get test ETH and tokens on Local Ethereum (anvil)", ""),
        (second, DEMO_L2_CHAIN_ID, "Get test ETH and tokens on Local L2 (anvil)", ""),
    ]
    assert len({row.key for row in view.faucet_rows}) == 4

    assert request_funds(faucet_services, user.user_id, user.address, DEMO_L2_CHAIN_ID).ok
    notes = [(r.address, r.chain_id, r.note) for r in fund_view(faucet_services, user.user_id).faucet_rows]
    # The test clock starts at 2026-01-01 00:00 UTC: the faucet serves this address on L2 again at midnight.
    assert notes == [
        (user.address, DEMO_L1_CHAIN_ID, ""),
        (user.address, DEMO_L2_CHAIN_ID, "Used today — again after 00:00 UTC tomorrow"),
        (second, DEMO_L1_CHAIN_ID, ""),
        (second, DEMO_L2_CHAIN_ID, ""),
    ]


def test_without_a_faucet_each_wallet_gets_an_eip681_request_per_chain(faucet_services, wallet_user):
    user = wallet_user()
    production = with_settings(faucet_services, mode="production", chains={})
    view = fund_view(production, user.user_id)
    assert view.mode == RECEIVE and view.faucet_rows == ()
    # No RPC URL set: the chains the settings describe (a payment needs no RPC of ours).
    assert [(r.network, r.uri) for r in view.receive_rows] == [
        (network.name, f"ethereum:{user.address}@{network.chain_id}") for network in PRODUCTION_NETWORKS
    ]
    first = view.receive_rows[0]
    assert first.qr == qr_svg_data_uri(first.uri) and first.qr.startswith("data:image/svg+xml")
    assert first.alt == f"QR code to pay {user.address[:6]}…{user.address[-4:]} on Ethereum"

    # RPC URLs set: the chains in force only.
    one_chain = with_settings(faucet_services, mode="production", chains={1: "https://rpc.example"})
    assert [r.network for r in fund_view(one_chain, user.user_id).receive_rows] == ["Ethereum"]
