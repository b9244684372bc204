"""The committed artifacts (TestWallet, TestToken, Multicall) are what contracts/build.mjs compiles from the sources."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from fuzzydice.chain.artifacts import ARTIFACTS, MULTICALL, TEST_TOKEN, load_artifact
from fuzzydice.chain.devchain import ROOT
from fuzzydice.chain.testing import TEST_WALLET_ARTIFACT, load_test_wallet_artifact

SOLC = ROOT / ".tools" / "node_modules" / "solc" / "soljson.js"
OPENZEPPELIN = ROOT / ".tools" / "node_modules" / "@openzeppelin" / "contracts" / "token" / "ERC20" / "ERC20.sol"

MULTICALL3_FUNCTIONS = {
    "aggregate((address,bytes)[])",
    "tryAggregate(bool,(address,bytes)[])",
    "tryBlockAndAggregate(bool,(address,bytes)[])",
    "blockAndAggregate((address,bytes)[])",
    "aggregate3((address,bool,bytes)[])",
    "aggregate3Value((address,bool,uint256,bytes)[])",
    "getBlockHash(uint256)",
    "getBlockNumber()",
    "getCurrentBlockCoinbase()",
    "getCurrentBlockDifficulty()",
    "getCurrentBlockGasLimit()",
    "getCurrentBlockTimestamp()",
    "getEthBalance(address)",
    "getLastBlockHash()",
    "getBasefee()",
    "getChainId()",
}
"""Multicall3's functions (github.com/mds1/multicall3, src/Multicall3.sol), by signature."""


def signature(item: dict) -> str:
    """`name(type,…)` of an ABI function, tuples spelled out."""

    def kind(param: dict) -> str:
        if param["type"].startswith("tuple"):
            return "(" + ",".join(kind(c) for c in param["components"]) + ")" + param["type"][len("tuple") :]
        return param["type"]

    return f"{item['name']}({','.join(kind(p) for p in item['inputs'])})"


def test_artifact_has_abi_and_prefixed_bytecode() -> None:
    artifact = load_test_wallet_artifact()
    names = {item.get("name") for item in artifact["abi"]}
    assert {"isValidSignature", "owner"} <= names
    assert artifact["bytecode"].startswith("0x") and len(artifact["bytecode"]) > 100
    bytes.fromhex(artifact["bytecode"][2:])
    assert artifact["compiler"]["evmVersion"] == "prague"
    assert artifact["compiler"]["optimizer"]["enabled"] is True


@pytest.mark.parametrize("name", ["TestWallet", TEST_TOKEN, MULTICALL])
def test_every_artifact_has_creation_and_runtime_code(name: str) -> None:
    artifact = load_artifact(name)
    for key in ("bytecode", "deployedBytecode"):
        assert artifact[key].startswith("0x") and len(artifact[key]) > 100
        bytes.fromhex(artifact[key][2:])
    assert artifact["compiler"]["evmVersion"] == "prague"


def test_test_token_is_an_erc20_with_chosen_decimals() -> None:
    abi = load_artifact(TEST_TOKEN)["abi"]
    functions = {signature(item) for item in abi if item["type"] == "function"}
    assert {
        "balanceOf(address)", "transfer(address,uint256)", "approve(address,uint256)",
        "allowance(address,address)", "transferFrom(address,address,uint256)",
        "decimals()", "symbol()", "name()", "totalSupply()",
    } <= functions
    constructor = next(item for item in abi if item["type"] == "constructor")
    assert [p["type"] for p in constructor["inputs"]] == ["string", "string", "uint8", "uint256"]


def test_multicall_has_multicall3_abi_and_no_constructor() -> None:
    abi = load_artifact(MULTICALL)["abi"]
    functions = {signature(item) for item in abi if item["type"] == "function"}
    assert MULTICALL3_FUNCTIONS <= functions
    assert not any(item["type"] == "constructor" for item in abi)  # anvil_setCode never runs one
    aggregate3 = next(item for item in abi if item.get("name") == "aggregate3")
    assert [o["type"] for o in aggregate3["outputs"]] == ["tuple[]"]
    assert [c["type"] for c in aggregate3["outputs"][0]["components"]] == ["bool", "bytes"]


def test_committed_artifact_matches_a_fresh_compile(tmp_path) -> None:
    node = shutil.which("node")
    if node is None or not SOLC.is_file() or not OPENZEPPELIN.is_file():
        pytest.skip(f"needs node, solc-js at {SOLC} and {OPENZEPPELIN} (scripts/bootstrap.sh installs them)")
    result = subprocess.run(
        [node, str(ROOT / "contracts" / "build.mjs"), "--check"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    json.loads(TEST_WALLET_ARTIFACT.read_text())
    assert {path.stem for path in ARTIFACTS.glob("*.json")} == {"TestWallet", TEST_TOKEN, MULTICALL}
