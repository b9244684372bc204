"""Access to the spruceid/siwe reference vectors in ``../shared/vectors/siwe`` (read in place).

When the folder is absent (a clone without the shared folder beside it), each
vector-driven test becomes a single skipped case carrying `ABSENT` as reason.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT.parent / "shared" / "vectors" / "siwe"
ABSENT = f"SIWE vectors folder {VECTORS} is absent (it sits beside the clone in CI)"
CAMEL_TO_SNAKE = {
    "chainId": "chain_id",
    "issuedAt": "issued_at",
    "expirationTime": "expiration_time",
    "notBefore": "not_before",
    "requestId": "request_id",
}
# Keys of the verification vectors that are not message fields.
VERIFY_KEYS = ("signature", "time", "domainBinding", "matchNonce")


def load(name: str) -> dict[str, Any]:
    """The parsed JSON of one vector file (``parsing_positive`` etc.)."""
    return json.loads((VECTORS / f"{name}.json").read_text(encoding="utf-8"))


def params(name: str) -> list[Any]:
    """One pytest param per vector of `name`, id ``<file>:<vector name>``; one skip when absent."""
    if not (VECTORS / f"{name}.json").is_file():
        return [pytest.param(None, None, id=f"{name}:absent", marks=pytest.mark.skip(reason=ABSENT))]
    return [pytest.param(key, value, id=f"{name}:{key}") for key, value in load(name).items()]


def snake(fields: dict[str, Any]) -> dict[str, Any]:
    """Vector fields with snake_case keys, the verification-only keys dropped, resources as a tuple."""
    out = {CAMEL_TO_SNAKE.get(k, k): v for k, v in fields.items() if k not in VERIFY_KEYS}
    if "resources" in out:
        out["resources"] = tuple(out["resources"])
    return out
