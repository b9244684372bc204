"""The chain client's raw reads on a real demo chain (eth_call, block number, logs, batched blocks) and the
multicall codec on their answers."""

from __future__ import annotations

import pytest
from eth_abi import encode

from fuzzydice.chain import multicall
from fuzzydice.chain.activity import TRANSFER_TOPIC
from fuzzydice.chain.client import BLOCK_BATCH, ChainRefused, ChainUnavailable, Web3ChainClient
from fuzzydice.chain.devchain import free_port
from fuzzydice.chain.networks import DEMO_DEPLOYER, DEMO_L1_CHAIN_ID, DEMO_NETWORKS, MULTICALL3_ADDRESS
from fuzzydice.chain.reading import address_topic
from tests.chain.chain_actions import latest_block, mine, new_wallet, rpc, send_eth, send_token
from tests.chain.rpc_proxy import RpcProxy

L1 = DEMO_L1_CHAIN_ID
DICE = DEMO_NETWORKS[0].tokens[0]


def test_call_returns_bytes_and_nothing_from_a_code_less_address(reader_settings, demo_chain_settings) -> None:
    client = Web3ChainClient(reader_settings)
    answer = client.call(L1, MULTICALL3_ADDRESS, multicall.GET_BLOCK_NUMBER)
    assert isinstance(answer, bytes) and int.from_bytes(answer, "big") == latest_block(demo_chain_settings[L1])
    assert client.call(L1, new_wallet(), multicall.GET_BLOCK_NUMBER) == b""
    with pytest.raises(ChainRefused):  # the multicall has no balanceOf: a revert
        client.call(L1, MULTICALL3_ADDRESS, multicall.balance_of(DICE.address, DEMO_DEPLOYER).data)
    with pytest.raises(ValueError):
        client.call(L1, "0x12", b"")


def test_get_logs_gives_typed_logs(reader_settings, demo_chain_settings) -> None:
    url = demo_chain_settings[L1]
    wallet = new_wallet()
    sent = send_token(url, DICE.address, wallet, 42)
    client = Web3ChainClient(reader_settings)
    latest = client.block_number(L1)
    assert latest == latest_block(url)
    (log,) = client.get_logs(
        L1, {"fromBlock": 0, "toBlock": latest, "address": [DICE.address], "topics": [TRANSFER_TOPIC, None, address_topic(wallet)]}
    )
    assert log.address == DICE.address and log.tx_hash == sent and log.block_number == latest
    assert log.topics[0].hex() == TRANSFER_TOPIC[2:] and log.topics[2][-20:] == bytes.fromhex(wallet[2:])
    assert int.from_bytes(log.data, "big") == 42 and isinstance(log.log_index, int)
    block = rpc(url, "eth_getBlockByNumber", [hex(latest), False])
    assert log.timestamp == int(block["timestamp"], 16)  # anvil sends blockTimestamp with each log


def test_a_refused_query_is_chain_refused_and_a_dead_chain_is_not(reader_settings, demo_chain_settings) -> None:
    with RpcProxy(demo_chain_settings[L1], max_log_blocks=5) as proxy:
        reader_settings.chains = {L1: proxy.url}
        client = Web3ChainClient(reader_settings)
        with pytest.raises(ChainRefused) as refused:
            client.get_logs(L1, {"fromBlock": 0, "toBlock": 10, "address": [DICE.address]})
        assert proxy.url not in str(refused.value)
        assert client.get_logs(L1, {"fromBlock": 0, "toBlock": 4, "address": [new_wallet()]}) == []
    reader_settings.chains = {L1: f"http://127.0.0.1:{free_port()}"}
    with pytest.raises(ChainUnavailable) as dead:
        Web3ChainClient(reader_settings).block_number(L1)
    assert not isinstance(dead.value, ChainRefused)


def test_get_blocks_reads_in_batches_and_keeps_the_order(reader_settings, demo_chain_settings) -> None:
    url = demo_chain_settings[L1]
    wallet = new_wallet()
    sent = send_eth(url, wallet, 7)
    latest = mine(url, BLOCK_BATCH + 40)
    numbers = list(range(latest, latest - BLOCK_BATCH - 41, -1))  # down to the block of `sent`
    with RpcProxy(url) as proxy:
        reader_settings.chains = {L1: proxy.url}
        client = Web3ChainClient(reader_settings)
        client.block_number(L1)  # the chain-id check happens here
        proxy.reset()
        blocks = client.get_blocks(L1, numbers, True)
        assert proxy.http_requests == 2 and proxy.count("eth_getBlockByNumber") == len(numbers)
        assert client.get_blocks(L1, numbers[:2], False)[0].transactions == ()
    assert [block.number for block in blocks] == numbers
    (tx,) = [tx for block in blocks for tx in block.transactions]
    assert (tx.hash, tx.sender, tx.to, tx.value) == (sent, "0x40C4076f3F5dda895E57608Ad310345CA66d6890", wallet, 7)
    assert all(block.timestamp > 0 for block in blocks)


def test_aggregate3_answers_each_call_and_none_where_it_failed(reader_settings, demo_chain_settings) -> None:
    wallet = new_wallet()
    send_token(demo_chain_settings[L1], DICE.address, wallet, 5)
    calls = [
        multicall.balance_of(DICE.address, wallet),
        multicall.balance_of(MULTICALL3_ADDRESS, wallet),  # reverts
        multicall.balance_of(new_wallet(), wallet),  # no code: success, no data
        multicall.eth_balance(MULTICALL3_ADDRESS, wallet),
    ]
    results = multicall.aggregate3(Web3ChainClient(reader_settings), L1, MULTICALL3_ADDRESS, calls)
    assert results[1] is None and results[2] == b""
    assert [multicall.uint(data) for data in results] == [5, None, None, 0]
    with pytest.raises(multicall.MulticallError, match="no multicall contract"):
        multicall.aggregate3(Web3ChainClient(reader_settings), L1, new_wallet(), calls)
    assert multicall.aggregate3(Web3ChainClient(reader_settings), L1, MULTICALL3_ADDRESS, []) == []


@pytest.mark.parametrize(
    ("answer", "count", "words"),
    [
        (b"", 1, "no multicall contract"),
        (b"\x00" * 32, 1, "not a result list"),
        (b"\x01" * 64, 1, "not a result list"),
        (b"\x00" * 65, 1, "not a result list"),
        (encode(["(bool,bytes)[]"], [[(True, b"")]]), 2, "1 results for 2 calls"),
        (encode(["uint256", "uint256"], [32, 2**64]), 1, "not a result list"),  # an absurd length
        (encode(["uint256", "uint256", "uint256"], [32, 1, 2**200]), 1, "not a result list"),  # an absurd offset
        (encode(["(bool,bytes)[]"], [[(True, b"")]])[:-32] + (2).to_bytes(32, "big"), 1, "not a result list"),
    ],
)
def test_answers_that_are_not_aggregate3_answers_are_refused(answer: bytes, count: int, words: str) -> None:
    with pytest.raises(multicall.MulticallError, match=words):
        multicall.decode_aggregate3(answer, count)


def test_uint_needs_a_whole_word() -> None:
    assert multicall.uint(None) is None and multicall.uint(b"\x01" * 31) is None
    assert multicall.uint((7).to_bytes(32, "big")) == 7


def test_the_hand_written_codec_agrees_with_eth_abi() -> None:
    """encode_aggregate3 / decode_aggregate3 skip eth_abi for speed: the bytes must be eth_abi's, both ways."""
    import random

    from eth_utils import to_checksum_address

    rng = random.Random(9)
    for size in (0, 1, 2, 7, 40):
        calls = [
            multicall.Call(to_checksum_address(rng.randbytes(20)), rng.randbytes(rng.choice([0, 4, 36, 68, 100])))
            for _ in range(size)
        ]
        expected = multicall.AGGREGATE3 + encode(
            ["(address,bool,bytes)[]"], [[(call.target, True, call.data) for call in calls]]
        )
        assert multicall.encode_aggregate3(calls) == expected
        results = [(rng.random() < 0.7, rng.randbytes(rng.choice([0, 1, 32, 33, 64, 200]))) for _ in range(size)]
        answer = encode(["(bool,bytes)[]"], [results])
        assert multicall.decode_aggregate3(answer, size) == [data if ok else None for ok, data in results]
        if size:
            for cut in (32, len(answer) - 32):  # truncated answers are refused, never read past their end
                with pytest.raises(multicall.MulticallError):
                    multicall.decode_aggregate3(answer[:cut], size)
