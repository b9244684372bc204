"""Browser sign-in benchmark: the password step and the second step (a backup code), timed apart.

In Debian Chromium against the production server (`reflex run --env prod`, as `make run` serves it).
Without a URL the script starts its own on a free port of 127.0.0.1 (demo mode, a throwaway SQLite
database migrated with Alembic, no dev chain) and stops it by its PID; with a URL it uses that server.

Each account registers, enrols an authenticator once (one code at the real time) and keeps the backup
codes shown after enrolment; then, for every round, it signs out and
1. signs in with the password: from the click on "Sign in" until the second-step page is loaded and
   hydrated (its buttons answer clicks) — sign-in event, bcrypt, ticket hand-off, cookie, full page load;
2. gives a backup code: from the click on "Verify" until the home page shows the user's data.
A backup code works once, so every `BACKUP_CODES_PER_ACCOUNT` rounds use a new account. The steps
(register, enrol, sign out) and the page's labels are those of the end-to-end tests (tests/e2e/journeys.py).

Run: `.venv/bin/python bench/browser_sign_in.py [URL]` (part of `make bench`). Starting the server
rebuilds `.web/`: not while another run of the app uses this checkout.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.results import record  # noqa: E402
from fuzzydice.clock import SystemClock  # noqa: E402
from tests.e2e.journeys import HOME, VERIFY, enrol, register, sign_out  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
ROUNDS = 20
BACKUP_CODES_PER_ACCOUNT = 10
STEP_TIMEOUT_MS = 30_000
SERVER_START_TIMEOUT_S = 600  # the first start installs the frontend's packages and builds it
SERVER_STOP_TIMEOUT_S = 30
# Every request comes from 127.0.0.1: the per-IP limits of a real deployment would cut the rounds off.
RAISED_LIMITS = ("SIGN_IN_IP_LIMIT", "SIGN_IN_IP_FAILURE_LIMIT", "REGISTER_IP_LIMIT")
HYDRATED_JS = """() => {
  const button = [...document.querySelectorAll('button')].find((b) => b.textContent.trim() === 'Use a backup code instead');
  return !!button && Object.keys(button).some((key) => key.startsWith('__reactProps$'));
}"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def production_server(tmp: Path) -> Iterator[str]:
    """`reflex run --env prod` in demo mode on a free port of 127.0.0.1; yields its origin."""
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "FUZZYDICE_MODE": "demo",
        "FUZZYDICE_DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
        "FUZZYDICE_SECRETS_FILE": str(tmp / "secrets.json"),
        "FUZZYDICE_PUBLIC_ORIGINS": origin,
        **{f"FUZZYDICE_{name}": "100000" for name in RAISED_LIMITS},
        "REFLEX_TELEMETRY_ENABLED": "0",
        "REFLEX_CHECK_LATEST_VERSION": "0",
    }
    bun = ROOT / ".tools" / "node_modules" / ".bin" / "bun"
    if bun.exists():
        env.setdefault("REFLEX_BUN_PATH", str(bun))
    subprocess.run([sys.executable, "-m", "alembic", "upgrade", "head"], cwd=ROOT, env=env, check=True,
                   stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
    log = open(tmp / "server.log", "wb")  # noqa: SIM115 (closed below)
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("reflex")), "run", "--env", "prod", "--frontend-port", str(port),
         "--backend-host", "127.0.0.1"],
        cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: the granian workers stop with it
    )
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while not _answers(f"{origin}/login/"):
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start; its log:\n{(tmp / 'server.log').read_text()[-3000:]}")
            time.sleep(0.5)
        yield origin
    finally:
        _stop(server)
        log.close()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _stop(server: subprocess.Popen) -> None:
    """SIGTERM to the server's process group (its PID), SIGKILL if it has not ended in time."""
    if server.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(SERVER_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)
            server.wait(SERVER_STOP_TIMEOUT_S)


def wait_hydrated(page) -> None:
    page.wait_for_function("() => !!document.querySelector('form, button') && Object.keys("
                           "document.querySelector('form, button')).some((key) => key.startsWith('__reactProps$'))")


def measure(base: str, rounds: int = ROUNDS) -> tuple[list[float], list[float]]:
    """Seconds of each round's password step and second step."""
    clock = SystemClock()
    password_step: list[float] = []
    second_step: list[float] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for _ in range(math.ceil(rounds / BACKUP_CODES_PER_ACCOUNT)):
                context = browser.new_context()
                context.set_default_timeout(STEP_TIMEOUT_MS)
                page = context.new_page()
                account = enrol(page, register(page, base, name="Bench"), clock)
                for code in account.backup_codes[: rounds - len(password_step)]:
                    sign_out(page)
                    wait_hydrated(page)
                    page.get_by_label("Email").fill(account.email)
                    page.get_by_label("Password", exact=True).fill(account.password)
                    start = time.perf_counter()
                    page.get_by_role("button", name="Sign in", exact=True).click()
                    expect(page).to_have_url(VERIFY)
                    page.wait_for_function(HYDRATED_JS)
                    password_step.append(time.perf_counter() - start)

                    page.get_by_role("button", name="Use a backup code instead").click()
                    page.get_by_label("Backup code").fill(code)
                    start = time.perf_counter()
                    page.get_by_role("button", name="Verify").click()
                    expect(page).to_have_url(HOME)
                    left = len(account.backup_codes) - account.backup_codes.index(code) - 1
                    expect(page.locator("#backup-codes-left")).to_have_text(f"Backup codes left: {left}")
                    second_step.append(time.perf_counter() - start)
                context.close()
        finally:
            browser.close()
    return password_step, second_step


def summary(times: list[float]) -> str:
    cuts = statistics.quantiles(times, n=100, method="inclusive")
    return (f"p50 {cuts[49] * 1000:.0f} ms, p95 {cuts[94] * 1000:.0f} ms "
            f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f})")


def main(base: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp_dir, contextlib.ExitStack() as stack:
        where = "a running server"
        if base is None:
            base = stack.enter_context(production_server(Path(tmp_dir)))
            where = "`reflex run --env prod` started by the benchmark"
        base = base.rstrip("/")
        password_step, second_step = measure(base)
    runs = f"{base}, {len(password_step)} rounds"
    record(f"- browser sign-in under {where} ({runs}), password step: click on Sign in to the second-step page "
           f"hydrated: {summary(password_step)}")
    record(f"- browser sign-in under {where} ({runs}), second step with a backup code: click on Verify to the "
           f"home page showing the user: {summary(second_step)}")

if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
