"""The committed TestWallet artifact is what contracts/build.mjs compiles from the committed source."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from fuzzydice.chain.devchain import ROOT
from fuzzydice.chain.testing import TEST_WALLET_ARTIFACT, load_test_wallet_artifact

SOLC = ROOT / ".tools" / "node_modules" / "solc" / "soljson.js"


def test_artifact_has_abi_and_prefixed_bytecode() -> None:
    artifact = load_test_wallet_artifact()
    names = {item.get("name") for item in artifact["abi"]}
    assert {"isValidSignature", "owner"} <= names
    assert artifact["bytecode"].startswith("0x") and len(artifact["bytecode"]) > 100
    bytes.fromhex(artifact["bytecode"][2:])
    assert artifact["compiler"]["evmVersion"] == "prague"
    assert artifact["compiler"]["optimizer"]["enabled"] is True


def test_committed_artifact_matches_a_fresh_compile(tmp_path) -> None:
    node = shutil.which("node")
    if node is None or not SOLC.is_file():
        pytest.skip(f"needs node and solc-js at {SOLC} (scripts/bootstrap.sh installs solc)")
    result = subprocess.run(
        [node, str(ROOT / "contracts" / "build.mjs"), "--check"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    json.loads(TEST_WALLET_ARTIFACT.read_text())
