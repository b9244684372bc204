"""The demo deploy step against real anvil: tokens where the settings say, our multicall at the canonical address."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector
from web3 import HTTPProvider, Web3
from web3.exceptions import ContractLogicError

from fuzzydice.chain import demo_deploy
from fuzzydice.chain.artifacts import MULTICALL, TEST_TOKEN, load_artifact
from fuzzydice.chain.demo_deploy import (
    DEPLOYER_ETH_WEI,
    TOKEN_SUPPLY,
    DemoDeployError,
    deploy_demo_chain,
    start_demo_chains,
)
from fuzzydice.chain.devchain import ROOT, DevChain, start_anvil
from fuzzydice.chain.networks import (
    DEMO_DEPLOYER,
    DEMO_NETWORKS,
    DEMO_TOKENS,
    MULTICALL3_ADDRESS,
    demo_token_address,
)

L1, L2 = DEMO_NETWORKS


def web3(url: str) -> Web3:
    return Web3(HTTPProvider(url, request_kwargs={"timeout": 10}))


def token_contract(w3: Web3, address: str):
    return w3.eth.contract(address=address, abi=load_artifact(TEST_TOKEN)["abi"])


def multicall(w3: Web3):
    return w3.eth.contract(address=MULTICALL3_ADDRESS, abi=load_artifact(MULTICALL)["abi"])


def calldata(signature: str, types: list[str] | None = None, values: list | None = None) -> bytes:
    return function_signature_to_4byte_selector(signature) + (encode(types, values) if types else b"")


@pytest.fixture
def fresh_l1() -> Iterator[DevChain]:
    """An empty anvil with the L1 demo chain id (its own, so tests can spoil it)."""
    chain = start_anvil(chain_id=L1.chain_id)
    try:
        yield chain
    finally:
        chain.stop()


def test_both_chains_hold_the_tokens_where_the_settings_say(demo_chains: list[DevChain]) -> None:
    assert [chain.chain_id for chain in demo_chains] == [31337, 31338]
    for chain, network in zip(demo_chains, DEMO_NETWORKS):
        w3 = web3(chain.url)
        assert w3.eth.chain_id == network.chain_id
        assert [token.symbol for token in network.tokens] == [symbol for symbol, _, _ in DEMO_TOKENS]
        for index, (symbol, name, decimals) in enumerate(DEMO_TOKENS):
            token = token_contract(w3, demo_token_address(index))
            assert network.tokens[index].address == demo_token_address(index)
            assert token.functions.symbol().call() == symbol
            assert token.functions.name().call() == name
            assert token.functions.decimals().call() == decimals
            assert token.functions.totalSupply().call() == TOKEN_SUPPLY * 10**decimals
        assert w3.eth.get_transaction_count(DEMO_DEPLOYER) >= len(DEMO_TOKENS)


def test_multicall_runtime_sits_at_the_canonical_address(demo_chains: list[DevChain]) -> None:
    runtime = load_artifact(MULTICALL)["deployedBytecode"]
    for chain in demo_chains:
        assert "0x" + bytes(web3(chain.url).eth.get_code(MULTICALL3_ADDRESS)).hex() == runtime


def test_aggregate3_reads_token_and_eth_balances_in_one_call(demo_chains: list[DevChain]) -> None:
    for chain in demo_chains:
        w3 = web3(chain.url)
        calls = [
            (demo_token_address(i), False, calldata("balanceOf(address)", ["address"], [DEMO_DEPLOYER]))
            for i in range(len(DEMO_TOKENS))
        ]
        calls.append((MULTICALL3_ADDRESS, False, calldata("getEthBalance(address)", ["address"], [DEMO_DEPLOYER])))
        calls.append((MULTICALL3_ADDRESS, False, calldata("getChainId()")))
        # a call that fails (no such function on a token) is reported, not fatal, when allowed
        calls.append((demo_token_address(0), True, calldata("noSuchFunction()")))
        results = multicall(w3).functions.aggregate3(calls).call()
        assert [success for success, _ in results] == [True] * (len(calls) - 1) + [False]
        for index, (_, data) in enumerate(results[: len(DEMO_TOKENS)]):
            balance = decode(["uint256"], data)[0]
            assert balance == token_contract(w3, demo_token_address(index)).functions.balanceOf(DEMO_DEPLOYER).call()
            assert balance > 0
        eth = decode(["uint256"], results[len(DEMO_TOKENS)][1])[0]
        assert eth == w3.eth.get_balance(DEMO_DEPLOYER) and 0 < eth <= DEPLOYER_ETH_WEI
        assert decode(["uint256"], results[len(DEMO_TOKENS) + 1][1])[0] == chain.chain_id


def test_a_failing_call_without_allow_failure_reverts_like_multicall3(demo_chains: list[DevChain]) -> None:
    w3 = web3(demo_chains[0].url)
    with pytest.raises(ContractLogicError, match="Multicall3: call failed"):
        multicall(w3).functions.aggregate3([(demo_token_address(0), False, calldata("noSuchFunction()"))]).call()
    with pytest.raises(ContractLogicError, match="Multicall3: call failed"):
        multicall(w3).functions.aggregate([(demo_token_address(0), calldata("noSuchFunction()"))]).call()
    with pytest.raises(ContractLogicError, match="Multicall3: call failed"):
        multicall(w3).functions.tryAggregate(True, [(demo_token_address(0), calldata("noSuchFunction()"))]).call()


def test_aggregate_try_aggregate_and_block_getters(demo_chains: list[DevChain]) -> None:
    w3 = web3(demo_chains[1].url)
    contract = multicall(w3)
    symbol_call = (demo_token_address(1), calldata("symbol()"))
    block_number, data = contract.functions.aggregate([symbol_call]).call()
    latest = w3.eth.get_block("latest")
    assert block_number == latest["number"]
    assert decode(["string"], data[0]) == ("fUSD",)
    tried = contract.functions.tryAggregate(False, [symbol_call, (demo_token_address(1), b"\x00")]).call()
    assert [success for success, _ in tried] == [True, False]
    assert contract.functions.getBlockNumber().call() == latest["number"]
    assert contract.functions.getCurrentBlockTimestamp().call() == latest["timestamp"]
    assert contract.functions.getChainId().call() == L2.chain_id
    assert contract.functions.getEthBalance(DEMO_DEPLOYER).call() == w3.eth.get_balance(DEMO_DEPLOYER)


def test_a_deployed_chain_is_left_as_is(demo_chains: list[DevChain]) -> None:
    for chain, network in zip(demo_chains, DEMO_NETWORKS):
        w3 = web3(chain.url)
        before = (w3.eth.block_number, w3.eth.get_transaction_count(DEMO_DEPLOYER), w3.eth.get_balance(DEMO_DEPLOYER))
        report = deploy_demo_chain(chain.url, network)
        assert report.already_deployed and report.deployed == () and not report.multicall_set
        assert report.tokens == network.tokens and report.multicall == MULTICALL3_ADDRESS
        after = (w3.eth.block_number, w3.eth.get_transaction_count(DEMO_DEPLOYER), w3.eth.get_balance(DEMO_DEPLOYER))
        assert after == before


def test_a_fresh_chain_is_deployed_once(fresh_l1: DevChain) -> None:
    first = deploy_demo_chain(fresh_l1.url, L1)
    assert first.deployed == tuple(symbol for symbol, _, _ in DEMO_TOKENS) and first.multicall_set
    w3 = web3(fresh_l1.url)
    for index, (_, _, decimals) in enumerate(DEMO_TOKENS):
        held = token_contract(w3, demo_token_address(index)).functions.balanceOf(DEMO_DEPLOYER).call()
        assert held == TOKEN_SUPPLY * 10**decimals  # the whole supply, for the faucet
    block = w3.eth.block_number
    second = deploy_demo_chain(fresh_l1.url, L1)
    assert second.already_deployed
    assert w3.eth.block_number == block


def test_a_deploy_cut_short_resumes_where_it_stopped(fresh_l1: DevChain) -> None:
    partial = L1.model_copy(update={"tokens": L1.tokens[:1]})
    assert deploy_demo_chain(fresh_l1.url, partial).deployed == ("DICE",)
    rest = deploy_demo_chain(fresh_l1.url, L1)
    assert rest.deployed == ("fUSD", "fWETH") and not rest.multicall_set
    w3 = web3(fresh_l1.url)
    assert all(w3.eth.get_code(token.address) for token in L1.tokens)


def test_a_deployer_whose_nonce_moved_is_refused(fresh_l1: DevChain) -> None:
    w3 = web3(fresh_l1.url)
    w3.provider.make_request("anvil_setBalance", [DEMO_DEPLOYER, hex(10**18)])
    w3.provider.make_request("anvil_impersonateAccount", [DEMO_DEPLOYER])
    tx = w3.eth.send_transaction({"from": DEMO_DEPLOYER, "to": w3.eth.accounts[0], "value": 1})
    w3.eth.wait_for_transaction_receipt(tx, timeout=10)
    with pytest.raises(DemoDeployError, match=r"nonce 1 .*DICE, fUSD, fWETH are missing.*Restart this chain"):
        deploy_demo_chain(fresh_l1.url, L1)
    assert not w3.eth.get_code(demo_token_address(1))  # nothing deployed at the wrong address either
    assert w3.eth.get_transaction_count(DEMO_DEPLOYER) == 1


def test_a_wrong_chain_id_is_refused_before_anything_changes(fresh_l1: DevChain) -> None:
    with pytest.raises(DemoDeployError, match="answers chain id 31337, not 31338"):
        deploy_demo_chain(fresh_l1.url, L2)
    w3 = web3(fresh_l1.url)
    assert w3.eth.get_balance(DEMO_DEPLOYER) == 0
    assert not w3.eth.get_code(MULTICALL3_ADDRESS)
    assert w3.eth.block_number == 0


def test_tokens_out_of_deployment_order_are_refused(fresh_l1: DevChain) -> None:
    swapped = L1.model_copy(update={"tokens": (L1.tokens[1], L1.tokens[0], L1.tokens[2])})
    with pytest.raises(DemoDeployError, match="deployment order"):
        deploy_demo_chain(fresh_l1.url, swapped)
    assert web3(fresh_l1.url).eth.block_number == 0


def test_nothing_answering_is_a_clear_error() -> None:
    from fuzzydice.chain.devchain import free_port

    with pytest.raises(DemoDeployError, match="eth_chainId failed"):
        deploy_demo_chain(f"http://127.0.0.1:{free_port()}", L1)


def test_start_demo_chains_stops_what_it_started_when_a_deploy_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[DevChain] = []

    def recording_start_anvil(**kwargs) -> DevChain:
        started.append(start_anvil(**kwargs))
        return started[-1]

    monkeypatch.setattr(demo_deploy, "start_anvil", recording_start_anvil)
    broken_l2 = L2.model_copy(update={"tokens": (L2.tokens[2],)})  # token 0 configured at nonce 2's address
    with pytest.raises(DemoDeployError):
        start_demo_chains([L1, broken_l2])
    assert len(started) == 2
    assert all(chain.process.poll() is not None for chain in started)


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("FUZZYDICE_")}
    return subprocess.run(
        [sys.executable, "-m", "fuzzydice.chain.demo_deploy", *args],
        cwd=ROOT, env=base | (env or {}), capture_output=True, text=True, timeout=60,
    )


def test_cli_deploys_the_named_chain_then_finds_it_deployed(fresh_l1: DevChain) -> None:
    result = run_cli("--chain-id", "31337", "--rpc", fresh_l1.url)
    assert result.returncode == 0, result.stderr
    assert f"chain 31337 at {fresh_l1.url}: deployed" in result.stdout
    assert web3(fresh_l1.url).eth.get_code(demo_token_address(2))
    again = run_cli("--chain-id", "31337", "--rpc", fresh_l1.url)
    assert again.returncode == 0 and "already deployed" in again.stdout
    wrong = run_cli("--chain-id", "31338", "--rpc", fresh_l1.url)
    assert wrong.returncode == 1 and "answers chain id 31337, not 31338" in wrong.stderr


def test_cli_defaults_to_every_demo_network_of_the_settings(demo_chain_settings: dict[int, str]) -> None:
    result = run_cli(env={"FUZZYDICE_CHAINS": json.dumps(demo_chain_settings)})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    for line, (chain_id, url) in zip(lines, demo_chain_settings.items()):
        assert f"chain {chain_id} at {url}: already deployed" in line


def test_cli_refuses_a_chain_that_is_not_a_demo_network() -> None:
    result = run_cli("--chain-id", "1", "--rpc", "http://127.0.0.1:1")
    assert result.returncode == 1 and "not a demo network" in result.stderr
