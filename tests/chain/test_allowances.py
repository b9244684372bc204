"""Allowances on the real demo chains: spenders from Approval logs, current values in one multicall per chain."""

from __future__ import annotations

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector

from fuzzydice.chain.allowances import UNLIMITED_FROM, UNLIMITED_TEXT, read_allowances
from fuzzydice.chain.amounts import format_amount
from fuzzydice.chain.client import Web3ChainClient
from fuzzydice.chain.devchain import free_port
from fuzzydice.chain.networks import (
    DEMO_L1_CHAIN_ID,
    DEMO_L2_CHAIN_ID,
    DEMO_NETWORKS,
    UNLIMITED_ALLOWANCE,
)
from fuzzydice.clock import FixedClock
from tests.chain.chain_actions import approve, mine, new_wallet, send, send_token
from tests.chain.rpc_proxy import RpcProxy

L1, L2 = DEMO_L1_CHAIN_ID, DEMO_L2_CHAIN_ID
DICE, FUSD, FWETH = DEMO_NETWORKS[0].tokens
TRANSFER_FROM = function_signature_to_4byte_selector("transferFrom(address,address,uint256)")


def test_approvals_show_as_allowances_unlimited_marked_zero_dropped(reader_settings, demo_chain_settings) -> None:
    url = demo_chain_settings[L1]
    owner = new_wallet(url, eth_wei=10**18)
    unlimited, limited, revoked, near_max, below = (new_wallet() for _ in range(5))
    approve(url, DICE.address, owner, unlimited, UNLIMITED_ALLOWANCE)
    approve(url, FUSD.address, owner, limited, 12_500_000)
    approve(url, FUSD.address, owner, revoked, 10**6)
    approve(url, FUSD.address, owner, revoked, 0)  # revoked later: the log stays, the allowance is gone
    approve(url, FWETH.address, owner, near_max, UNLIMITED_FROM)
    approve(url, FWETH.address, owner, below, UNLIMITED_FROM - 1)
    approve(url, FUSD.address, owner, limited, 12_600_000)  # a second approval: one entry, the current value
    clock = FixedClock()

    results = read_allowances(
        Web3ChainClient(reader_settings), reader_settings.active_networks, [owner], reader_settings, clock
    )

    l1, l2 = results
    assert (l1.chain_id, l1.network, l1.error, l1.ok, l1.read_at) == (
        L1,
        "Local Ethereum (anvil)",
        None,
        True,
        clock.now(),
    )
    assert l2.ok and l2.allowances == ()
    shown = [(a.token_symbol, a.spender, a.raw, a.text, a.unlimited) for a in l1.allowances]
    assert shown == [  # by owner, then the network's token order, then spender
        ("DICE", unlimited, UNLIMITED_ALLOWANCE, UNLIMITED_TEXT, True),
        ("fUSD", limited, 12_600_000, "12.6 fUSD", False),
        *sorted(
            [
                ("fWETH", near_max, UNLIMITED_FROM, UNLIMITED_TEXT, True),
                ("fWETH", below, UNLIMITED_FROM - 1, format_amount(UNLIMITED_FROM - 1, 18, "fWETH"), False),
            ],
            key=lambda row: row[1],
        ),
    ]
    assert all(a.owner == owner and a.spender_link is None for a in l1.allowances)
    assert l1.allowances[0].token_address == DICE.address and l1.allowances[1].decimals == 6


def test_spending_lowers_the_allowance_shown(reader_settings, demo_chain_settings) -> None:
    """The value shown is the current allowance, not the approved one."""
    url = demo_chain_settings[L2]
    owner = new_wallet(url, eth_wei=10**18)
    spender = new_wallet(url, eth_wei=10**18)
    send_token(url, DICE.address, owner, 10 * 10**18)
    approve(url, DICE.address, owner, spender, 5 * 10**18)
    spend = TRANSFER_FROM + encode(["address", "address", "uint256"], [owner, spender, 2 * 10**18])
    send(url, spender, DICE.address, data=spend)
    client = Web3ChainClient(reader_settings)
    (_, l2) = read_allowances(client, reader_settings.active_networks, [owner], reader_settings)
    assert [(a.spender, a.text) for a in l2.allowances] == [(spender, "3 DICE")]


def test_one_multicall_per_chain_and_chunked_log_scans(reader_settings, demo_chain_settings) -> None:
    url = demo_chain_settings[L1]
    owner = new_wallet(url, eth_wei=10**18)
    spenders = [new_wallet() for _ in range(4)]
    mine(url, 60)  # the range below starts after block 0 however few blocks the shared chain had
    for spender in spenders[:2]:
        approve(url, DICE.address, owner, spender, 10**18)
    mine(url, 30)
    for spender in spenders[2:]:
        approve(url, FUSD.address, owner, spender, 10**6)
    reader_settings.log_chunk_blocks = 8
    reader_settings.activity_blocks = 60
    with RpcProxy(url) as proxy:
        reader_settings.chains = {L1: proxy.url}
        (l1,) = read_allowances(
            Web3ChainClient(reader_settings), reader_settings.active_networks, [owner], reader_settings
        )
    assert sorted(a.spender for a in l1.allowances) == sorted(spenders)
    assert proxy.count("eth_call") == 1
    ranges = [(low, high) for low, high, _ in proxy.log_ranges]
    assert len(ranges) == 8 and all(high - low + 1 <= 8 for low, high in ranges)  # 60 blocks in chunks of 8
    assert ranges == sorted(ranges, reverse=True)  # newest first


def test_approvals_older_than_the_range_are_not_found(reader_settings, demo_chain_settings) -> None:
    url = demo_chain_settings[L1]
    owner = new_wallet(url, eth_wei=10**18)
    old, recent = new_wallet(), new_wallet()
    approve(url, DICE.address, owner, old, 10**18)
    mine(url, 40)
    approve(url, DICE.address, owner, recent, 10**18)
    reader_settings.activity_blocks = 20
    (l1, _) = read_allowances(
        Web3ChainClient(reader_settings), reader_settings.active_networks, [owner], reader_settings
    )
    assert [a.spender for a in l1.allowances] == [recent]


def test_an_unreachable_chain_gives_an_error_for_that_chain_only(reader_settings, demo_chain_settings) -> None:
    url = demo_chain_settings[L1]
    owner = new_wallet(url, eth_wei=10**18)
    spender = new_wallet()
    approve(url, DICE.address, owner, spender, UNLIMITED_ALLOWANCE)
    reader_settings.chains = {L1: url, L2: f"http://127.0.0.1:{free_port()}"}
    l1, l2 = read_allowances(
        Web3ChainClient(reader_settings), reader_settings.active_networks, [owner], reader_settings
    )
    assert l2.error == "Local L2 (anvil) did not answer" and l2.allowances == ()
    assert [a.spender for a in l1.allowances] == [spender]
