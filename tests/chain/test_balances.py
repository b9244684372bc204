"""Balances through the project's reader on the two real demo chains: one eth_call per chain, failures per chain."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta

import pytest

from fuzzydice.chain.balances import UNAVAILABLE, read_balances, read_balances_async
from fuzzydice.chain.client import Web3ChainClient
from fuzzydice.chain.demo_deploy import start_demo_chains
from fuzzydice.chain.devchain import free_port
from fuzzydice.chain.networks import DEMO_L1_CHAIN_ID, DEMO_L2_CHAIN_ID, DEMO_NETWORKS, Token
from fuzzydice.clock import FixedClock
from tests.chain.chain_actions import latest_block, new_wallet, send_eth, send_token
from tests.chain.rpc_proxy import RpcProxy

L1, L2 = DEMO_L1_CHAIN_ID, DEMO_L2_CHAIN_ID


def by_chain(results):
    return {result.chain_id: result for result in results}


def test_balances_equal_what_was_sent_on_both_chains(reader_settings, demo_chain_settings) -> None:
    wallet, other = new_wallet(), new_wallet()
    l1, l2 = demo_chain_settings[L1], demo_chain_settings[L2]
    dice, fusd, fweth = DEMO_NETWORKS[0].tokens
    send_eth(l1, wallet, 1_500_000_000_000_000_000)
    send_token(l1, dice.address, wallet, 1_234_567_800_000_000_000_000)
    send_token(l1, fusd.address, wallet, 25_000_000)
    send_eth(l2, wallet, 3 * 10**17)
    send_token(l2, fweth.address, wallet, 10**13)
    send_token(l2, dice.address, other, 7 * 10**18)
    clock = FixedClock()

    results = read_balances(Web3ChainClient(reader_settings), reader_settings.active_networks, [wallet, other], clock)

    assert [result.chain_id for result in results] == [L1, L2]  # the networks' order
    first, second = results
    assert first.network == "Local Ethereum (anvil)" and first.layer == "L1" and first.error is None and first.ok
    assert second.network == "Local L2 (anvil)" and second.layer == "L2" and second.ok
    assert first.read_at == clock.now() and first.block_number == latest_block(l1)
    assert second.block_number == latest_block(l2)

    mine, theirs = first.wallets
    assert mine.wallet == wallet and theirs.wallet == other
    assert (mine.native.raw, mine.native.text, mine.native.symbol, mine.native.address) == (
        1_500_000_000_000_000_000,
        "1.5 ETH",
        "ETH",
        None,
    )
    assert [(t.symbol, t.raw, t.text, t.address) for t in mine.tokens] == [
        ("DICE", 1_234_567_800_000_000_000_000, "1,234.5678 DICE", dice.address),
        ("fUSD", 25_000_000, "25 fUSD", fusd.address),
        ("fWETH", 0, "0 fWETH", fweth.address),
    ]
    assert str(mine.tokens[0].value) == "1234.567800000000000000" and mine.tokens[0].available
    assert theirs.native.raw == 0 and [t.raw for t in theirs.tokens] == [0, 0, 0]

    mine2, theirs2 = second.wallets
    assert mine2.native.text == "0.3 ETH"
    assert [t.text for t in mine2.tokens] == ["0 DICE", "0 fUSD", "< 0.0001 fWETH"]
    assert [t.raw for t in theirs2.tokens] == [7 * 10**18, 0, 0]


def test_one_eth_call_per_chain_whatever_the_wallets_and_tokens(reader_settings, demo_chain_settings) -> None:
    wallets = [new_wallet() for _ in range(3)]
    send_token(demo_chain_settings[L2], DEMO_NETWORKS[1].tokens[1].address, wallets[2], 5_000_000)
    with RpcProxy(demo_chain_settings[L1]) as p1, RpcProxy(demo_chain_settings[L2]) as p2:
        reader_settings.chains = {L1: p1.url, L2: p2.url}
        client = Web3ChainClient(reader_settings)
        first = read_balances(client, reader_settings.active_networks, wallets)
        assert p1.methods == ["eth_chainId", "eth_call"]  # the client checks the chain id once, then one call
        assert p2.methods == ["eth_chainId", "eth_call"]
        p1.reset()
        p2.reset()
        again = read_balances(client, reader_settings.active_networks, wallets)
        assert p1.methods == ["eth_call"] and p2.methods == ["eth_call"] and p1.http_requests == 1
    assert by_chain(first)[L2].wallets[2].tokens[1].text == "5 fUSD"
    assert [r.wallets for r in again] == [r.wallets for r in first]


def test_chains_are_read_at_once(reader_settings, demo_chain_settings) -> None:
    """Each chain's eth_call waits at a barrier for the other's: read one after the other, both would fail."""
    barrier = threading.Barrier(2)
    wallet = new_wallet()
    with (
        RpcProxy(demo_chain_settings[L1], call_barrier=barrier) as p1,
        RpcProxy(demo_chain_settings[L2], call_barrier=barrier) as p2,
    ):
        reader_settings.chains = {L1: p1.url, L2: p2.url}
        client = Web3ChainClient(reader_settings)
        results = read_balances(client, reader_settings.active_networks, [wallet])
        assert [r.error for r in results] == [None, None]
        assert not barrier.broken
        results = asyncio.run(read_balances_async(client, reader_settings.active_networks, [wallet]))
        assert [r.error for r in results] == [None, None]


def test_async_wrapper_reads_the_same(reader_settings) -> None:
    wallet = new_wallet()
    client = Web3ChainClient(reader_settings)
    clock = FixedClock()
    synchronous = read_balances(client, reader_settings.active_networks, [wallet], clock)
    asynchronous = asyncio.run(read_balances_async(client, reader_settings.active_networks, [wallet], clock))
    assert [(r.chain_id, r.wallets, r.error) for r in asynchronous] == [
        (r.chain_id, r.wallets, r.error) for r in synchronous
    ]


def test_a_stopped_chain_gives_an_error_for_that_chain_only(reader_settings, demo_chain_settings) -> None:
    (own_l2,) = start_demo_chains([DEMO_NETWORKS[1]])
    try:
        wallet = new_wallet()
        send_eth(own_l2.url, wallet, 10**18)
        send_eth(demo_chain_settings[L1], wallet, 2 * 10**18)
        reader_settings.chains = {L1: demo_chain_settings[L1], L2: own_l2.url}
        reader_settings.chain_rpc_timeout = timedelta(seconds=2)
        client = Web3ChainClient(reader_settings)
        before = by_chain(read_balances(client, reader_settings.active_networks, [wallet]))
        assert before[L2].wallets[0].native.text == "1 ETH"
    finally:
        own_l2.stop()
    after = read_balances(client, reader_settings.active_networks, [wallet])
    l1, l2 = after
    assert l2.error == "Local L2 (anvil) did not answer" and not l2.ok
    assert l2.wallets == () and l2.block_number is None and l2.network == "Local L2 (anvil)"
    assert str(own_l2.url.rsplit(":", 1)[1]) not in l2.error  # no URL in words shown to people
    assert l1.ok and l1.wallets[0].native.text == "2 ETH"


def test_a_chain_that_never_answered_gives_an_error_for_that_chain_only(reader_settings, demo_chain_settings) -> None:
    reader_settings.chains = {L1: demo_chain_settings[L1], L2: f"http://127.0.0.1:{free_port()}/v3/an-api-key"}
    results = by_chain(read_balances(Web3ChainClient(reader_settings), reader_settings.active_networks, [new_wallet()]))
    assert results[L2].error == "Local L2 (anvil) did not answer"
    assert results[L1].ok and results[L1].wallets[0].native.raw == 0


def test_a_code_less_multicall_address_gives_a_clear_error_not_garbage(reader_settings) -> None:
    l1, l2 = reader_settings.active_networks
    nowhere = new_wallet()  # an address without code
    broken = l2.model_copy(update={"multicall": nowhere})
    results = read_balances(Web3ChainClient(reader_settings), (l1, broken), [new_wallet()])
    assert results[1].error == f"Local L2 (anvil) has no working multicall contract at {nowhere}"
    assert results[1].wallets == ()
    assert results[0].ok


def test_a_token_whose_call_fails_is_unavailable_not_zero(reader_settings, demo_chain_settings) -> None:
    l1, l2 = reader_settings.active_networks
    wallet = new_wallet()
    send_token(demo_chain_settings[L1], l1.tokens[0].address, wallet, 10**18)
    ghost = Token(address=new_wallet(), symbol="GHOST", decimals=18)  # no code: the sub-call returns nothing
    not_a_token = Token(address=l1.multicall, symbol="MC", decimals=18)  # no balanceOf: the sub-call reverts
    odd = l1.model_copy(update={"tokens": (ghost, l1.tokens[0], not_a_token)})
    (result,) = read_balances(Web3ChainClient(reader_settings), (odd,), [wallet])
    assert result.ok
    tokens = result.wallets[0].tokens
    assert [(t.symbol, t.raw, t.text, t.available) for t in tokens] == [
        ("GHOST", None, UNAVAILABLE, False),
        ("DICE", 10**18, "1 DICE", True),
        ("MC", None, UNAVAILABLE, False),
    ]
    assert tokens[0].value is None


def test_a_malformed_wallet_is_a_caller_bug(reader_settings) -> None:
    with pytest.raises(ValueError):
        read_balances(Web3ChainClient(reader_settings), reader_settings.active_networks, ["0x1234"])


def test_the_same_wallet_in_any_case_is_read_once(reader_settings) -> None:
    wallet = new_wallet()
    results = read_balances(Web3ChainClient(reader_settings), reader_settings.active_networks, [wallet.lower(), wallet])
    assert [w.wallet for w in results[0].wallets] == [wallet]
