"""Sign-in benchmark: one sign-in's time, throughput against the bcrypt ceiling, event-loop lag.

Run: `make bench` (or `.venv/bin/python bench/sign_in.py`). It uses a throwaway
SQLite database migrated with Alembic and the production bcrypt cost (12).
Numbers go to stdout and are appended to bench/results.md with date and machine.
"""

from __future__ import annotations

import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402

from bench.results import record  # noqa: E402
from fuzzydice.auth import flows  # noqa: E402
from fuzzydice.auth.password_pool import run_password_flow  # noqa: E402
from fuzzydice.services import build_services  # noqa: E402
from fuzzydice.settings import Settings  # noqa: E402

PASSWORD = "velvet orbit canyon 7 lantern"
SINGLE_RUNS = 10
STORM = 16  # sign-ins in the storm (bounded)


def migrated_services(tmp: Path):
    url = f"sqlite:///{tmp / 'bench.db'}"
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "alembic"))
    cfg.attributes["database_url"] = url
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, "head")
    # One account signs in from 127.0.0.1 and from 16 addresses at once, far beyond what a person does:
    # the per-IP and account-wide throttles are raised so that the benchmark measures hashing, not them.
    settings = Settings(
        mode="demo",
        database_url=url,
        secrets_file=tmp / "secrets.json",
        sign_in_ip_limit=100_000,
        sign_in_ip_failure_limit=100_000,
        account_backoff_free_failures=100_000,
        hash_wait=timedelta(minutes=1),  # the storm measures throughput at saturation: nobody is turned away as busy
    )
    return build_services(settings)


def one_sign_in(services, email: str, ip: str) -> float:
    start = time.perf_counter()
    result = flows.sign_in_with_password(services, email=email, password=PASSWORD, ip=ip)
    elapsed = time.perf_counter() - start
    assert result.ok, result
    return elapsed


async def storm(services, email: str) -> tuple[float, float, float]:
    """STORM sign-ins on the password pool (as the login page runs them) while a ticker measures the loop's lag."""
    lags: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        while not stop.is_set():
            before = time.perf_counter()
            await asyncio.sleep(0.01)
            lags.append(time.perf_counter() - before - 0.01)

    tick = asyncio.create_task(ticker())
    start = time.perf_counter()
    await asyncio.gather(
        *(run_password_flow(services.settings, one_sign_in, services, email, f"10.0.0.{i}") for i in range(STORM))
    )
    wall = time.perf_counter() - start
    stop.set()
    await tick
    return wall, max(lags), statistics.quantiles(lags, n=20)[-1]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp_dir:
        services = migrated_services(Path(tmp_dir))
        email = "bench@example.com"
        reg = flows.register(services, name="Bench", email=email, password=PASSWORD)
        assert reg.ok, reg
        services.hasher.dummy_hash()
        times = [one_sign_in(services, email, "127.0.0.1") for _ in range(SINGLE_RUNS)]
        one = statistics.median(times)
        cores = os.cpu_count() or 1
        ceiling = cores / one
        wall, lag_max, lag_p95 = asyncio.run(storm(services, email))
        throughput = STORM / wall
        lines = [
            f"## {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.node() or 'machine'}, "
            f"{cores} cores, Python {platform.python_version()}",
            f"- one sign-in (email + password, bcrypt cost {services.settings.bcrypt_cost}): "
            f"median {one * 1000:.0f} ms of {SINGLE_RUNS} (min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f})",
            f"- storm of {STORM} sign-ins on the password pool ({services.settings.password_threads} threads, "
            f"{services.settings.hash_concurrency or cores} hashing at once): {throughput:.1f}/s; "
            f"bcrypt ceiling {ceiling:.1f}/s (cores / one sign-in) = {throughput / ceiling:.0%}",
            f"- event-loop lag during the storm: p95 {lag_p95 * 1000:.1f} ms, max {lag_max * 1000:.1f} ms",
        ]
        record("\n".join(lines))


if __name__ == "__main__":
    main()
