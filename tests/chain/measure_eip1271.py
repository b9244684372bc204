"""Time one `is_valid_signature` call against a real anvil (a measurement, not a test).

    .venv/bin/python -m tests.chain.measure_eip1271 [--runs 50]

Starts its own anvil on a free loopback port, deploys a TestWallet, prints the median
and spread of `runs` calls, and stops anvil by its PID.
"""

from __future__ import annotations

import argparse
import statistics
import time

from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_defunct

from fuzzydice.chain.devchain import start_anvil
from fuzzydice.chain.eip1271 import has_code, is_valid_signature
from fuzzydice.chain.testing import deploy_test_wallet


def timed(call, runs: int) -> list[float]:
    """Milliseconds of each of `runs` calls (after one warm-up call)."""
    call()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def report(name: str, samples: list[float]) -> None:
    ordered = sorted(samples)
    p90 = ordered[int(0.9 * (len(ordered) - 1))]
    print(
        f"{name:<36} median {statistics.median(samples):6.2f} ms  "
        f"min {ordered[0]:6.2f}  p90 {p90:6.2f}  max {ordered[-1]:6.2f}  (n={len(samples)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=50)
    runs = parser.parse_args().runs
    owner = Account.create()
    message = encode_defunct(text="measure")
    message_hash = _hash_eip191_message(message)
    good = owner.sign_message(message).signature
    bad = Account.create().sign_message(message).signature
    with start_anvil() as chain:
        wallet = deploy_test_wallet(chain.url, owner.address)
        assert is_valid_signature(chain.url, wallet, message_hash, good)
        for label, signature in (("valid", good), ("invalid", bad)):
            samples = timed(lambda sig=signature: is_valid_signature(chain.url, wallet, message_hash, sig), runs)
            report(f"is_valid_signature ({label})", samples)
        report("has_code (contract)", timed(lambda: has_code(chain.url, wallet), runs))


if __name__ == "__main__":
    main()
