"""The committed contract artifacts in `contracts/build/` (built by `node contracts/build.mjs`).

Each holds `abi`, `bytecode` (creation code, 0x-prefixed) and `deployedBytecode` (runtime
code, what `anvil_setCode` puts at an address), so deploying needs no compiler.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

ARTIFACTS = Path(__file__).resolve().parents[2] / "contracts" / "build"

TEST_TOKEN = "TestToken"
"""OpenZeppelin ERC20 with constructor(name, symbol, decimals, initialSupply in base units)."""

MULTICALL = "Multicall"
"""Our Multicall3-compatible contract (no constructor: its runtime code is set at the canonical address)."""


@lru_cache(maxsize=None)
def load_artifact(name: str) -> dict[str, Any]:
    """The committed artifact `contracts/build/<name>.json` (cached; treat it as read-only)."""
    return json.loads((ARTIFACTS / f"{name}.json").read_text())
