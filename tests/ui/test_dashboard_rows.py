"""The rows the home and wallet pages render, built from the readers' results (pure functions)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from fuzzydice.chain.activity import ActivityItem, ActivityReport
from fuzzydice.chain.allowances import Allowance, ChainAllowances
from fuzzydice.chain.balances import ChainBalances, TokenAmount, WalletBalances
from fuzzydice.chain.reading import ChainProblem
from fuzzydice.play.sessions import EXPIRED, PlaySession
from fuzzydice.ui import dashboard_rows as rows

AT = datetime(2026, 11, 22, 23, 40, 5, tzinfo=timezone.utc)
WALLET = "0x71C7656EC7ab88b098defB751B7401B5f6d8976F"
OTHER = "0xFABB0ac9d68B0B445fB7357272Ff202C5651694a"
SPENDER = "0x1CBd3b2770909D4e10f157cABC84C7264073C9Ec"
DICE = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
TX = "0x" + "ab" * 32


def chain(chain_id=31337, name="Local Ethereum (anvil)", layer="L1", wallets=(), error=None, read_at=AT):
    return ChainBalances(
        chain_id=chain_id, network=name, layer=layer, wallets=tuple(wallets), block_number=None if error else 7,
        read_at=read_at, error=error,
    )


def test_balances_per_chain_in_human_units_with_symbols_and_a_failed_chain_as_its_error():
    wallet = WalletBalances(
        wallet=WALLET,
        native=TokenAmount.of("ETH", 18, 1_250_000_000_000_000_000),
        tokens=(
            TokenAmount.of("DICE", 18, 1_234_567_800_000_000_000_000, DICE),
            TokenAmount.of("fUSD", 6, 0, OTHER),
            TokenAmount.of("fWETH", 18, None, SPENDER),  # its sub-call failed
        ),
    )
    built = rows.balance_rows(
        [chain(wallets=[wallet]), chain(31338, "Local L2 (anvil)", "L2", error="Local L2 (anvil) did not answer")]
    )
    first, second = built
    assert (first.chain_id, first.network, first.layer, first.error) == (31337, "Local Ethereum (anvil)", "L1", "")
    (shown,) = first.wallets
    assert shown.address == WALLET and shown.short == "0x71C7…976F"
    assert [(line.amount, line.symbol) for line in shown.lines] == [
        ("1.25", "ETH"), ("1,234.5678", "DICE"), ("0", "fUSD"), ("unavailable", "fWETH"),
    ]
    assert [line.native for line in shown.lines] == [True, False, False, False]
    assert [line.zero for line in shown.lines] == [False, False, True, False]  # unavailable is never "zero"
    assert [line.available for line in shown.lines] == [True, True, True, False]
    assert (second.network, second.layer, second.error, second.wallets) == (
        "Local L2 (anvil)", "L2", "Local L2 (anvil) did not answer", [],
    )


def test_last_updated_is_the_latest_read_in_utc_and_empty_without_reads():
    later = AT + timedelta(seconds=2)
    assert rows.last_updated([AT, later]) == "Last updated 23:40:07 UTC"
    assert rows.last_updated([]) == ""
    naive = datetime(2026, 1, 2, 3, 4, 5)
    assert rows.utc_time(naive) == "03:04:05 UTC"


def test_short_address_keeps_the_start_and_end():
    assert rows.short_address(WALLET) == "0x71C7…976F"
    assert rows.short_address("0x1234") == "0x1234"


def test_second_factors_and_sessions_in_words():
    assert rows.factor_lines(("totp", "backup_codes"), 7) == [
        "Authenticator app (6-digit codes)", "Backup codes (7 left)",
    ]
    assert rows.factor_lines((), 0) == []
    assert rows.sessions_text(1, 0) == "1 signed-in session (this one included)"
    assert rows.sessions_text(3, 2) == (
        "3 signed-in sessions (this one included), and 2 sign-ins that passed the first step but not the second"
    )


def allowance(raw, text, unlimited, link=None):
    return Allowance(
        owner=WALLET, spender=SPENDER, token_symbol="DICE", token_address=DICE, decimals=18, raw=raw, text=text,
        unlimited=unlimited, spender_link=link,
    )


def test_allowances_with_unlimited_marked_spender_links_when_configured_and_chain_errors_apart():
    chains = [
        ChainAllowances(1, "Ethereum", (allowance(2**256 - 1, "Unlimited", True, f"https://etherscan.io/address/{SPENDER}"),), AT),
        ChainAllowances(31338, "Local L2 (anvil)", (allowance(5 * 10**18, "5 DICE", False),), AT),
        ChainAllowances(10, "OP Mainnet", (), AT, error="OP Mainnet did not answer"),
    ]
    built = rows.allowance_rows(chains)
    assert [(r.network, r.token, r.amount, r.unlimited, r.spender_link) for r in built] == [
        ("Ethereum", "DICE", "Unlimited", True, f"https://etherscan.io/address/{SPENDER}"),
        ("Local L2 (anvil)", "DICE", "5 DICE", False, ""),
    ]
    assert built[0].spender == SPENDER and built[0].spender_short == "0x1CBd…C9Ec"
    assert built[0].owner_short == "0x71C7…976F"
    assert rows.chain_errors(chains) == ["OP Mainnet did not answer"]


def item(direction, *, timestamp=AT, link=None, block=120, log_index=0):
    return ActivityItem(
        chain_id=31337, network="Local Ethereum (anvil)", tx_hash=TX, block_number=block, timestamp=timestamp,
        direction=direction, wallet=WALLET, counterparty=OTHER, kind="token", symbol="DICE", raw=15 * 10**17,
        amount_text="1.5 DICE", link=link, token_address=DICE, log_index=log_index,
    )


def test_activity_in_words_newest_first_with_time_or_block_and_links_when_configured():
    report = ActivityReport(
        items=(
            item("in", link=f"https://etherscan.io/tx/{TX}"),
            item("out", timestamp=None, block=1_234_567, log_index=3),
            item("self", log_index=4),
        ),
        problems=(ChainProblem(31338, "Local L2 (anvil)", "Local L2 (anvil) did not answer"),),
        read_at=AT,
    )
    built = rows.activity_rows(report)
    assert [(r.direction, r.incoming, r.amount, r.counterparty, r.network) for r in built] == [
        ("Received", True, "1.5 DICE", "from 0xFABB…694a", "Local Ethereum (anvil)"),
        ("Sent", False, "1.5 DICE", "to 0xFABB…694a", "Local Ethereum (anvil)"),
        ("Moved between your wallets", False, "1.5 DICE", "to 0xFABB…694a", "Local Ethereum (anvil)"),
    ]
    assert [r.when for r in built] == ["2026-11-22 23:40 UTC", "block 1,234,567", "2026-11-22 23:40 UTC"]
    assert [r.link for r in built] == [f"https://etherscan.io/tx/{TX}", "", ""]
    assert len({r.key for r in built}) == 3
    assert built[0].counterparty_address == OTHER
    assert rows.activity_problems(report) == ["Local L2 (anvil) did not answer"]
    assert rows.no_activity_text(10_000) == "No activity in the last 10,000 blocks."


def test_the_demo_faucet_is_named_in_the_activity_list():
    from dataclasses import replace

    from fuzzydice.chain.networks import DEMO_DEPLOYER

    funded = replace(item("in"), counterparty=DEMO_DEPLOYER.lower())
    assert rows.activity_row(funded).counterparty == "from the demo faucet"
    assert rows.activity_row(item("in")).counterparty == "from 0xFABB…694a"


def play(play_id, *, running, reason=None, minutes=15, started=AT):
    ends = started + timedelta(minutes=minutes)
    return PlaySession(
        id=play_id, chain_id=31337, minutes=minutes, spending_limit=Decimal("0.500"), symbol="ETH",
        started_at=started, ends_at=ends, ended_at=None if running else (ends if reason == EXPIRED else started + timedelta(minutes=2)),
        end_reason=None if running else reason,
    )


def test_play_sessions_running_with_time_left_and_the_last_few_past_ones():
    names = {31337: "Local Ethereum (anvil)"}.get
    now = AT + timedelta(minutes=3, seconds=30)
    running = rows.play_row(play(9, running=True), now, lambda cid: names(cid, f"chain {cid}"))
    assert running.network == "Local Ethereum (anvil)"
    assert (running.duration, running.limit) == ("15 minutes", "Spending limit 0.5 ETH")
    assert running.status == "11 minutes left (ends 2026-11-22 23:55 UTC)"
    assert running.started == "Started 2026-11-22 23:40 UTC"
    assert rows.time_left_text(timedelta(seconds=59)) == "less than a minute left"
    assert rows.time_left_text(timedelta(minutes=1, seconds=5)) == "1 minute left"

    history = [play(9, running=True), play(8, running=False, reason="user"), play(7, running=False, reason=EXPIRED)]
    history += [play(i, running=False, reason="user") for i in range(6, 0, -1)]
    past = rows.past_play_rows(history, now, lambda cid: "Local Ethereum (anvil)", limit=5)
    assert [row.id for row in past] == [8, 7, 6, 5, 4]  # the running one is shown apart
    assert past[0].status == "Ended by you at 2026-11-22 23:42 UTC"
    assert past[1].status == "Ran out at 2026-11-22 23:55 UTC"
