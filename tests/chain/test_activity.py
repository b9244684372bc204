"""Recent activity on the real demo chains: token transfers from chunked eth_getLogs, native transfers from blocks
or an explorer API (a fake one on 127.0.0.1), newest first across chains, failures per chain."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from fuzzydice.chain.activity import read_activity
from fuzzydice.chain.client import Web3ChainClient
from fuzzydice.chain.devchain import free_port
from fuzzydice.chain.networks import DEMO_DEPLOYER, DEMO_L1_CHAIN_ID, DEMO_L2_CHAIN_ID, DEMO_NETWORKS
from fuzzydice.clock import FixedClock
from tests.chain.chain_actions import mine, new_wallet, rpc, send_eth, send_token
from tests.chain.rpc_proxy import RpcProxy

L1, L2 = DEMO_L1_CHAIN_ID, DEMO_L2_CHAIN_ID
DICE, FUSD, FWETH = DEMO_NETWORKS[0].tokens


def block_time(url: str, tx_hash: str) -> datetime:
    receipt = rpc(url, "eth_getTransactionReceipt", [tx_hash])
    block = rpc(url, "eth_getBlockByNumber", [receipt["blockNumber"], False])
    return datetime.fromtimestamp(int(block["timestamp"], 16), tz=timezone.utc)


def read(settings, wallets, networks=None, clock=None):
    return read_activity(Web3ChainClient(settings), networks or settings.active_networks, wallets, settings, clock)


def test_transfers_appear_newest_first_across_chains(reader_settings, demo_chain_settings) -> None:
    l1, l2 = demo_chain_settings[L1], demo_chain_settings[L2]
    wallet = new_wallet(l1, eth_wei=10**18)
    rpc(l2, "anvil_impersonateAccount", [wallet])
    friend = new_wallet()
    token_in = send_token(l1, DICE.address, wallet, 2 * 10**18)
    token_out = send_token(l1, DICE.address, friend, 5 * 10**17, sender=wallet)
    eth_in = send_eth(l1, wallet, 3 * 10**18)
    eth_out = send_eth(l1, friend, 25 * 10**16, sender=wallet)
    rpc(l2, "evm_increaseTime", [60])  # the L2 transfer is a minute newer than everything on L1
    l2_in = send_token(l2, FUSD.address, wallet, 3_500_000)
    clock = FixedClock()

    report = read(reader_settings, [wallet], clock=clock)

    assert report.problems == () and report.read_at == clock.now()
    rows = [(i.chain_id, i.tx_hash, i.kind, i.direction, i.counterparty, i.amount_text) for i in report.items]
    assert rows == [
        (L2, l2_in, "token", "in", DEMO_DEPLOYER, "3.5 fUSD"),
        (L1, eth_out, "native", "out", friend, "0.25 ETH"),
        (L1, eth_in, "native", "in", DEMO_DEPLOYER, "3 ETH"),
        (L1, token_out, "token", "out", friend, "0.5 DICE"),
        (L1, token_in, "token", "in", DEMO_DEPLOYER, "2 DICE"),
    ]
    first = report.items[0]
    assert first.network == "Local L2 (anvil)" and first.wallet == wallet and first.symbol == "fUSD"
    assert first.raw == 3_500_000 and first.token_address == FUSD.address and first.link is None  # no explorer
    assert first.timestamp == block_time(l2, l2_in)
    assert report.items[1].timestamp == block_time(l1, eth_out) and report.items[1].token_address is None
    assert all(item.block_number > 0 for item in report.items)


def test_explorer_links_and_self_transfers(reader_settings, demo_chain_settings) -> None:
    l1 = demo_chain_settings[L1]
    wallet, other = new_wallet(l1, eth_wei=10**18), new_wallet(l1, eth_wei=10**18)
    moved = send_token(l1, FWETH.address, other, 0, sender=wallet)
    network = reader_settings.active_networks[0].model_copy(update={"explorer_url": "https://explorer.example/"})
    report = read(reader_settings, [wallet, other], networks=(network,))
    (item,) = report.items
    assert (item.direction, item.wallet, item.counterparty) == ("self", wallet, other)  # between the user's wallets
    assert item.link == f"https://explorer.example/tx/{moved}" and item.amount_text == "0 fWETH"


def test_a_range_larger_than_one_chunk_is_scanned_newest_first(reader_settings, demo_chain_settings) -> None:
    url = demo_chain_settings[L1]
    mine(url, 100)
    wallet = new_wallet()
    old = send_token(url, DICE.address, wallet, 10**18)
    mine(url, 35)  # past several chunk boundaries
    recent = send_token(url, FUSD.address, wallet, 10**6)
    latest = mine(url, 3)
    reader_settings.log_chunk_blocks = 10
    reader_settings.activity_blocks = 60
    with RpcProxy(url) as proxy:
        reader_settings.chains = {L1: proxy.url}
        report = read(reader_settings, [wallet])
    assert [item.tx_hash for item in report.items] == [recent, old] and report.problems == ()
    ranges = [(low, high) for low, high, _ in proxy.log_ranges]
    assert ranges[0] == (latest - 9, latest) and ranges[1] == (latest - 9, latest)  # both filters, same blocks
    assert ranges[-1] == (latest - 59, latest - 50)
    assert len(ranges) == 12 and all(high - low == 9 for low, high in ranges)
    assert ranges == sorted(ranges, reverse=True)

    reader_settings.chains = {L1: url}
    reader_settings.activity_blocks = 30  # `old` is 39 blocks back: outside the range
    assert [item.tx_hash for item in read(reader_settings, [wallet]).items] == [recent]


def test_native_transfers_come_from_the_last_blocks_scanned(reader_settings, demo_chain_settings) -> None:
    url = demo_chain_settings[L2]
    wallet = new_wallet()
    sent = send_eth(url, wallet, 10**17)
    mine(url, 20)
    reader_settings.native_scan_blocks = 10
    assert read(reader_settings, [wallet]).items == ()
    reader_settings.native_scan_blocks = 30
    assert [item.tx_hash for item in read(reader_settings, [wallet]).items] == [sent]


def test_the_chunk_is_halved_when_the_provider_refuses_large_ranges(reader_settings, demo_chain_settings) -> None:
    url = demo_chain_settings[L1]
    mine(url, 120)
    wallet = new_wallet()
    sent = send_token(url, DICE.address, wallet, 10**18)
    mine(url, 30)
    reader_settings.log_chunk_blocks = 100
    reader_settings.log_chunk_min_blocks = 4
    reader_settings.activity_blocks = 100
    with RpcProxy(url, max_log_blocks=16) as proxy:
        reader_settings.chains = {L1: proxy.url}
        report = read(reader_settings, [wallet])
    assert [item.tx_hash for item in report.items] == [sent] and report.problems == ()
    refused = [high - low + 1 for low, high, no in proxy.log_ranges if no]
    accepted = [high - low + 1 for low, high, no in proxy.log_ranges if not no]
    assert refused == [100, 50, 25]  # halved until the provider accepts
    assert set(accepted[:-2]) == {12} and max(accepted) <= 16  # the smaller chunk is kept for the rest


def test_a_chain_refusing_even_the_smallest_chunk_is_an_error_for_it_only(reader_settings, demo_chain_settings) -> None:
    l1, l2 = demo_chain_settings[L1], demo_chain_settings[L2]
    wallet = new_wallet()
    on_l1_token = send_token(l1, DICE.address, wallet, 10**18)
    on_l1_eth = send_eth(l1, wallet, 10**18)
    on_l2 = send_token(l2, DICE.address, wallet, 10**18)
    reader_settings.log_chunk_blocks = 64
    reader_settings.log_chunk_min_blocks = 4
    with RpcProxy(l1, max_log_blocks=2) as proxy:
        reader_settings.chains = {L1: proxy.url, L2: l2}
        report = read(reader_settings, [wallet])
    assert [(p.chain_id, p.network, p.message) for p in report.problems] == [
        (L1, "Local Ethereum (anvil)", "Local Ethereum (anvil) refused to search its event logs")
    ]
    assert [high - low + 1 for low, high, _ in proxy.log_ranges] == [64, 32, 16, 8, 4]  # down to the floor, then no
    hashes = {item.tx_hash for item in report.items}
    assert on_l2 in hashes and on_l1_eth in hashes and on_l1_token not in hashes  # native transfers still read


def test_the_scan_stops_once_the_limit_is_found(reader_settings, demo_chain_settings) -> None:
    url = demo_chain_settings[L1]
    mine(url, 200)
    wallet = new_wallet()
    sent = [send_token(url, DICE.address, wallet, (n + 1) * 10**18) for n in range(5)]
    reader_settings.activity_limit = 3
    reader_settings.log_chunk_blocks = 10
    reader_settings.activity_blocks = 200
    with RpcProxy(url) as proxy:
        reader_settings.chains = {L1: proxy.url}
        report = read(reader_settings, [wallet])
    assert [item.tx_hash for item in report.items] == sent[:1:-1]  # the three newest
    assert [item.amount_text for item in report.items] == ["5 DICE", "4 DICE", "3 DICE"]
    assert len(proxy.log_ranges) == 2  # one chunk (two filters): the 19 older chunks are never asked


def test_block_times_are_read_when_logs_do_not_carry_them(reader_settings, demo_chain_settings) -> None:
    url = demo_chain_settings[L2]
    wallet = new_wallet()
    sent = send_token(url, FWETH.address, wallet, 10**18)
    mine(url, 5)
    reader_settings.native_scan_blocks = 1  # the native scan does not reach the transfer's block
    with RpcProxy(url, strip_log_timestamps=True) as proxy:
        reader_settings.chains = {L2: proxy.url}
        (item,) = read(reader_settings, [wallet]).items
    assert item.tx_hash == sent and item.timestamp == block_time(url, sent)
    assert proxy.count("eth_getBlockByNumber") == 2  # the native scan's one block, then the transfer's


def test_an_unreachable_chain_is_an_error_for_it_only(reader_settings, demo_chain_settings) -> None:
    wallet = new_wallet()
    sent = send_token(demo_chain_settings[L2], DICE.address, wallet, 10**18)
    reader_settings.chains = {L1: f"http://127.0.0.1:{free_port()}/key", L2: demo_chain_settings[L2]}
    report = read(reader_settings, [wallet])
    assert [p.message for p in report.problems] == ["Local Ethereum (anvil) did not answer"]
    assert [item.tx_hash for item in report.items] == [sent]


def test_a_node_answering_malformed_logs_is_an_error_for_it_only(reader_settings, demo_chain_settings) -> None:
    l1, l2 = demo_chain_settings[L1], demo_chain_settings[L2]
    wallet = new_wallet()
    on_l1 = send_token(l1, DICE.address, wallet, 10**18)
    send_token(l2, DICE.address, wallet, 10**18)
    with RpcProxy(l2, garble_log_timestamps=True) as proxy:
        reader_settings.chains = {L1: l1, L2: proxy.url}
        report = read(reader_settings, [wallet])
    assert [p.message for p in report.problems] == ["Local L2 (anvil) did not answer"]
    assert [item.tx_hash for item in report.items] == [on_l1]


# --- production: native transfers from an Etherscan-compatible explorer API --------------------------------


class FakeExplorer:
    """An Etherscan-compatible `txlist` endpoint on 127.0.0.1 answering what the test sets."""

    def __init__(self) -> None:
        self.status = 200
        self.answer: Any = {"status": "1", "message": "OK", "result": []}
        self.queries: list[dict[str, list[str]]] = []
        explorer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                explorer.queries.append(parse_qs(urlsplit(self.path).query))
                body = json.dumps(explorer.answer).encode()
                self.send_response(explorer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api"


@pytest.fixture
def explorer() -> Iterator[FakeExplorer]:
    fake = FakeExplorer()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.server.shutdown()
        fake.server.server_close()
        thread.join(timeout=5)


def txlist_entry(tx_hash: str, sender: str, to: str, value: int, block: int, when: int, **extra: str) -> dict:
    return {
        "blockNumber": str(block),
        "timeStamp": str(when),
        "hash": tx_hash,
        "from": sender.lower(),
        "to": to.lower(),
        "value": str(value),
        "isError": "0",
        **extra,
    }


def production_network(settings, explorer_url: str):
    """The L1 demo chain described as a production chain: no block scan, an explorer API with a key."""
    return settings.active_networks[0].model_copy(
        update={
            "testnet": False,
            "explorer_api_url": f"{explorer_url}?apikey=SECRET-KEY",
            "explorer_url": "https://explorer.example",
        }
    )


def test_production_native_transfers_come_from_the_explorer_api(reader_settings, demo_chain_settings, explorer) -> None:
    url = demo_chain_settings[L1]
    wallet, friend = new_wallet(), new_wallet()
    token = send_token(url, DICE.address, wallet, 10**18)
    send_eth(url, wallet, 10**18)  # on chain, but production chains are not block-scanned: only the API counts
    h = [f"0x{n:064x}" for n in range(1, 7)]
    now = 2_000_000_000
    explorer.answer = {
        "status": "1",
        "message": "OK",
        "result": [
            txlist_entry(h[0], friend, wallet, 2 * 10**18, 10**9, now),  # in; block far beyond the chain's
            txlist_entry(h[1], wallet, friend, 5 * 10**17, 10**9 - 1, now - 60),  # out
            txlist_entry(h[2], wallet, friend, 10**18, 10**9 - 2, now - 120, isError="1"),  # failed: left out
            txlist_entry(h[3], wallet, friend, 0, 10**9 - 3, now - 180),  # a contract call without value
            {"hash": "0xnot-a-hash", "from": wallet, "to": friend, "value": "1"},  # malformed
            txlist_entry(h[5], friend, new_wallet(), 10**18, 10**9 - 5, now - 300),  # not the user's
        ],
    }
    network = production_network(reader_settings, explorer.url)
    report = read(reader_settings, [wallet], networks=(network,))
    assert report.problems == ()
    rows = [(i.tx_hash, i.kind, i.direction, i.amount_text, i.link) for i in report.items]
    assert rows[:2] == [
        (h[0], "native", "in", "2 ETH", f"https://explorer.example/tx/{h[0]}"),
        (h[1], "native", "out", "0.5 ETH", f"https://explorer.example/tx/{h[1]}"),
    ]
    assert rows[2][:3] == (token, "token", "in") and len(rows) == 3
    assert report.items[0].timestamp == datetime.fromtimestamp(now, tz=timezone.utc)
    (query,) = explorer.queries
    assert query["module"] == ["account"] and query["action"] == ["txlist"] and query["sort"] == ["desc"]
    assert query["address"] == [wallet] and query["apikey"] == ["SECRET-KEY"]  # the operator's key kept
    assert query["offset"] == [str(reader_settings.activity_limit)] and query["page"] == ["1"]


def test_an_explorer_time_beyond_the_calendar_does_not_break_the_read(reader_settings, explorer) -> None:
    """A broken (or hostile) explorer's time far outside what a datetime holds: the entry shows without a time."""
    wallet, friend = new_wallet(), new_wallet()
    good, odd, older = (f"0x{n:064x}" for n in (7, 8, 9))
    explorer.answer = {
        "status": "1",
        "message": "OK",
        "result": [
            txlist_entry(good, friend, wallet, 10**18, 10**9, 2_000_000_000),
            txlist_entry(odd, friend, wallet, 10**18, 10**9 - 1, 10**20),  # year beyond 9999
            txlist_entry(older, friend, wallet, 10**18, 10**9 - 2, -(10**15)),
        ],
    }
    report = read(reader_settings, [wallet], networks=(production_network(reader_settings, explorer.url),))
    assert report.problems == ()
    assert [(i.tx_hash, i.timestamp is None) for i in report.items] == [(good, False), (odd, True), (older, True)]


@pytest.mark.parametrize(
    ("status", "answer"),
    [
        (500, {"message": "boom"}),
        (200, {"status": "0", "message": "NOTOK", "result": "Invalid API Key"}),
        (200, ["not", "an", "object"]),
    ],
)
def test_a_failing_explorer_costs_only_native_transfers(
    reader_settings, demo_chain_settings, explorer, status, answer
) -> None:
    wallet = new_wallet()
    token = send_token(demo_chain_settings[L1], DICE.address, wallet, 10**18)
    explorer.status, explorer.answer = status, answer
    report = read(reader_settings, [wallet], networks=(production_network(reader_settings, explorer.url),))
    (problem,) = report.problems
    assert problem.message == "The explorer of Local Ethereum (anvil) did not answer: its ETH transfers are missing"
    assert "SECRET" not in problem.message
    assert [item.tx_hash for item in report.items] == [token]


def test_an_explorer_with_nothing_to_show(reader_settings, explorer) -> None:
    explorer.answer = {"status": "0", "message": "No transactions found", "result": []}
    report = read(reader_settings, [new_wallet()], networks=(production_network(reader_settings, explorer.url),))
    assert report.items == () and report.problems == ()


def test_a_silent_explorer_is_given_up_after_the_timeout(reader_settings, silent_endpoint) -> None:
    from datetime import timedelta

    reader_settings.chain_rpc_timeout = timedelta(seconds=0.3)
    network = production_network(reader_settings, silent_endpoint.url)
    report = read(reader_settings, [new_wallet()], networks=(network,))
    assert [p.message for p in report.problems] == [
        "The explorer of Local Ethereum (anvil) did not answer: its ETH transfers are missing"
    ]
    assert len(silent_endpoint.connections()) == 1
