"""Time to verify one Sign-In-With-Ethereum signature (parse + EIP-191 recovery + all checks).

Run: `.venv/bin/python bench/siwe_verify.py` (also part of `make bench`); appends to bench/results.md.
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from eth_account import Account  # noqa: E402
from eth_account.messages import encode_defunct  # noqa: E402

from bench.results import record  # noqa: E402
from fuzzydice.siwe import SiweMessage, new_nonce, verify_message  # noqa: E402

RUNS = 200


def main() -> None:
    account = Account.create()
    now = datetime.now(timezone.utc)
    text = SiweMessage.build(
        domain="127.0.0.1:3000", address=account.address, uri="http://127.0.0.1:3000/login", version="1",
        chain_id=31337, nonce=new_nonce(), issued_at=now, expiration_time=now + timedelta(minutes=5),
        statement="Sign in to Fuzzy Dice with this wallet.",
    ).to_text()
    signature = account.sign_message(encode_defunct(text=text)).signature.to_0x_hex()
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        message = SiweMessage.parse(text)
        verify_message(message, signature, domain=message.domain, nonce=message.nonce, now=now)
        times.append(time.perf_counter() - start)
    line = (
        f"- verify one SIWE signature (parse + EIP-191 recovery + checks): median {statistics.median(times) * 1000:.2f} ms "
        f"of {RUNS} (max {max(times) * 1000:.2f})"
    )
    record(line)


if __name__ == "__main__":
    main()
