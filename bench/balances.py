"""Home-page balance refresh on 2 local chains × 20 tokens: the reader against one raw multicall and sequential calls.

Run: `.venv/bin/python bench/balances.py` (also part of `make bench`); appends to bench/results.md.

It starts two deployed demo anvils (L1 31337, L2 31338) on free loopback ports, deploys 20
more TestTokens on each (from anvil's first default account, so the demo deployer is left
alone), funds one wallet with some of each, and measures in the same run (median of RUNS):

- the reader's full refresh (`read_balances`: both chains at once, one `aggregate3` each,
  decoded into amounts with text) — what the home page's refresh costs;
- one raw `aggregate3` round trip (the same calldata, built beforehand, on one chain, through
  web3's provider without formatters; the answer not decoded);
- the same balances read one call at a time (`eth_getBalance` + 20 `balanceOf` per chain, chains
  in turn, the same thin provider path).

Goal (issue 9): the refresh within 2× the raw multicall round trip.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from tempfile import TemporaryDirectory

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from eth_abi import encode  # noqa: E402
from web3 import HTTPProvider, Web3  # noqa: E402
from web3.types import RPCEndpoint  # noqa: E402

from bench.results import record  # noqa: E402
from fuzzydice.chain import multicall  # noqa: E402
from fuzzydice.chain.artifacts import TEST_TOKEN, load_artifact  # noqa: E402
from fuzzydice.chain.balances import balance_calls, read_balances, read_chain_balances  # noqa: E402
from fuzzydice.chain.client import Web3ChainClient  # noqa: E402
from fuzzydice.chain.demo_deploy import start_demo_chains  # noqa: E402
from fuzzydice.chain.networks import Network, Token  # noqa: E402
from fuzzydice.settings import Settings  # noqa: E402

TOKENS = 20
RUNS = 50
WARMUP = 5
TRANSFER = bytes.fromhex("a9059cbb")  # transfer(address,uint256)
ETH_CALL = RPCEndpoint("eth_call")
GET_BALANCE = RPCEndpoint("eth_getBalance")


def deploy_tokens(w3: Web3, deployer: str, count: int) -> tuple[Token, ...]:
    """`count` TestTokens from `deployer` (an unlocked anvil account), each with 1e12 whole tokens."""
    artifact = load_artifact(TEST_TOKEN)
    factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    tokens = []
    for i in range(count):
        decimals = 6 if i % 4 == 1 else 18
        tx = factory.constructor(f"Bench Token {i}", f"B{i}", decimals, 10**12 * 10**decimals).transact({"from": deployer})
        receipt = w3.eth.wait_for_transaction_receipt(tx, timeout=10, poll_latency=0.01)
        assert receipt["status"] == 1, receipt
        tokens.append(Token(address=receipt["contractAddress"], symbol=f"B{i}", decimals=decimals))
    return tuple(tokens)


def fund(w3: Web3, deployer: str, wallet: str, tokens: tuple[Token, ...]) -> None:
    """Some ETH and some of every token for `wallet`."""
    hashes = [w3.eth.send_transaction({"from": deployer, "to": wallet, "value": 10**18})]
    for i, token in enumerate(tokens):
        data = TRANSFER + encode(["address", "uint256"], [wallet, (i + 1) * 10**token.decimals])
        hashes.append(w3.eth.send_transaction({"from": deployer, "to": token.address, "data": data}))
    for tx in hashes:
        assert w3.eth.wait_for_transaction_receipt(tx, timeout=10, poll_latency=0.01)["status"] == 1


def timed(task: Callable[[], object]) -> list[float]:
    """Seconds of each of RUNS runs of `task`, after WARMUP untimed ones."""
    for _ in range(WARMUP):
        task()
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        task()
        times.append(time.perf_counter() - start)
    return times


def ms(times: list[float]) -> str:
    return f"median {statistics.median(times) * 1000:.2f} ms (p95 {statistics.quantiles(times, n=20)[-1] * 1000:.2f})"


def main() -> None:
    chains = start_demo_chains()
    try:
        with TemporaryDirectory() as tmp:
            settings = Settings(
                mode="demo", secrets_file=Path(tmp) / "secrets.json", chains={c.chain_id: c.url for c in chains}
            )
            webs = {c.chain_id: Web3(HTTPProvider(c.url), middleware=[]) for c in chains}
            wallet = Web3.to_checksum_address("0x" + os.urandom(20).hex())
            networks: list[Network] = []
            for network in settings.active_networks:
                w3 = webs[network.chain_id]
                deployer = w3.eth.accounts[0]
                tokens = deploy_tokens(w3, deployer, TOKENS)
                fund(w3, deployer, wallet, tokens)
                networks.append(network.model_copy(update={"tokens": tokens}))
            client = Web3ChainClient(settings)

            results = read_balances(client, networks, [wallet])
            assert all(r.ok and len(r.wallets[0].tokens) == TOKENS for r in results), results
            assert [t.raw for t in results[0].wallets[0].tokens][:2] == [10**18, 2 * 10**6]

            refresh = timed(lambda: read_balances(client, networks, [wallet]))
            one_chain = timed(lambda: read_chain_balances(client, networks[0], [wallet]))

            # The baselines go straight to web3's provider (no formatters, calldata built beforehand):
            # the thinnest round trip web3.py makes, so the ratios count round trips and the reader's own work.
            first = networks[0]
            calldata = "0x" + multicall.encode_aggregate3(balance_calls(first, [wallet])).hex()
            provider = webs[first.chain_id].provider
            params = [{"to": first.multicall, "data": calldata}, "latest"]

            def raw_call() -> None:
                assert len(provider.make_request(ETH_CALL, params)["result"]) > 2

            raw = timed(raw_call)

            one_call_each = [
                (
                    webs[network.chain_id].provider,
                    [[wallet, "latest"]]
                    + [
                        [{"to": t.address, "data": "0x" + multicall.balance_of(t.address, wallet).data.hex()}, "latest"]
                        for t in network.tokens
                    ],
                )
                for network in networks
            ]

            def sequential() -> None:
                for chain_provider, requests in one_call_each:
                    chain_provider.make_request(GET_BALANCE, requests[0])
                    for request in requests[1:]:
                        chain_provider.make_request(ETH_CALL, request)

            one_by_one = timed(sequential)
    finally:
        for chain in chains:
            chain.stop()

    ratio = statistics.median(refresh) / statistics.median(raw)
    goal = "met" if ratio <= 2 else "NOT met"
    cores = os.cpu_count() or 1
    load = os.getloadavg()[0]  # the two anvils and the reader share the cores: other work on them shows here
    lines = [
        f"## {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.node() or 'machine'}, {cores} cores, "
        f"Python {platform.python_version()}, load average {load:.1f} — balances, 2 local anvil chains × {TOKENS} "
        f"tokens, 1 wallet, {RUNS} runs",
        f"- home refresh through the reader (both chains at once, one aggregate3 each, decoded): {ms(refresh)}",
        f"- one chain through the reader (read_chain_balances: one aggregate3, decoded, amounts as text): "
        f"{ms(one_chain)}",
        f"- one raw aggregate3 round trip (one chain, {TOKENS + 2} sub-calls, calldata ready, answer not decoded): "
        f"{ms(raw)}",
        f"- the same balances one call at a time (eth_getBalance + {TOKENS} balanceOf per chain, "
        f"{2 * (TOKENS + 1)} calls): {ms(one_by_one)}",
        f"- refresh / raw multicall = {ratio:.2f}× (goal ≤ 2×: {goal}); one chain / raw multicall = "
        f"{statistics.median(one_chain) / statistics.median(raw):.2f}×; "
        f"sequential / refresh = {statistics.median(one_by_one) / statistics.median(refresh):.1f}×",
    ]
    record("\n".join(lines))


if __name__ == "__main__":
    main()
