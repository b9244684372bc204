"""Fixtures of the tests that run the app (tests/e2e, and attack tests in tests/security): one production
build of the app per session, driven by Playwright. Loaded once for the whole suite (tests/conftest.py).

The app runs in this pytest process through ``reflex.testing.AppHarnessProd``:
the backend is a uvicorn server in a thread (its own asyncio loop), the exported
frontend is served by a second uvicorn server in another thread, each on a free
port of 127.0.0.1. Test code shares the app's Python objects
(``app_harness.app_instance``), but coroutines that touch them must run on the
backend's loop: use ``backend_call``. While sync Playwright is active the main
thread counts as inside a running loop, so ``asyncio.run()`` fails in tests.

pytest-playwright is deliberately not used; these fixtures replace it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
E2E_DIR = REPO_ROOT / "tests" / "e2e"
APP_NAME = "fuzzydice"
CHROMIUM = os.environ.get("FUZZYDICE_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
MIGRATION_TIMEOUT_S = 120
E2E_RAISED_LIMITS = (
    "SIGN_IN_IP_LIMIT",
    "SIGN_IN_IP_FAILURE_LIMIT",
    "REGISTER_IP_LIMIT",
    "SIWE_CHALLENGE_IP_LIMIT",
    "WALLET_SIGN_IN_IP_LIMIT",
)
BACKEND_CALL_TIMEOUT_S = 30
APP_CHILD_TIMEOUT_S = 180

T = TypeVar("T")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that runs the app (under tests/e2e, or using `app_harness`) as `e2e`; run them last.

    The harness changes process-wide state (os.environ, Reflex's env mode and
    config), so the other tests should not run after it has started. Attack tests
    in tests/security that need the running app use these fixtures too.
    """
    here = E2E_DIR

    def runs_app(item: pytest.Item) -> bool:
        return here in Path(str(item.path)).parents or "app_harness" in getattr(item, "fixturenames", ())

    e2e = [item for item in items if runs_app(item)]
    for item in e2e:
        item.add_marker(pytest.mark.e2e)
    e2e_ids = {id(item) for item in e2e}
    items[:] = [item for item in items if id(item) not in e2e_ids] + e2e


def _reflex_env_defaults() -> dict[str, str]:
    """Reflex settings the Makefile exports, for runs of pytest outside make."""
    defaults = {
        "REFLEX_TELEMETRY_ENABLED": "0",
        "REFLEX_CHECK_LATEST_VERSION": "0",
    }
    bun = REPO_ROOT / ".tools" / "node_modules" / ".bin" / "bun"
    if bun.exists():
        defaults["REFLEX_BUN_PATH"] = str(bun)
    return defaults


@pytest.fixture(scope="session")
def app_env(tmp_path_factory: pytest.TempPathFactory, demo_chain_settings: dict[int, str]) -> Iterator[dict[str, str]]:
    """Set the app's environment for the session (in os.environ: the app runs in-process).

    The app reads the session's two demo chains (`demo_chains`: L1 31337 and L2 31338 on free ports,
    deployed, stopped by PID at the end) through FUZZYDICE_CHAINS.

    Yields:
        The FUZZYDICE_* variables that were set.
    """
    data_dir = tmp_path_factory.mktemp("app")
    frontend_port = _free_port()
    backend_port = _free_port()
    app_vars = {
        "FUZZYDICE_MODE": "demo",
        "FUZZYDICE_DATABASE_URL": f"sqlite:///{data_dir / 'fuzzydice.db'}",
        "FUZZYDICE_SECRETS_FILE": str(data_dir / "secrets.json"),
        # The page origins are known in advance (the harness serves pages on both ports),
        # so the websocket's origin check runs with the real, exact list.
        "FUZZYDICE_PUBLIC_ORIGINS": f"http://127.0.0.1:{frontend_port},http://127.0.0.1:{backend_port}",
        "FUZZYDICE_TEST_FRONTEND_PORT": str(frontend_port),
        "FUZZYDICE_TEST_BACKEND_PORT": str(backend_port),
        "FUZZYDICE_CHAINS": json.dumps({str(chain_id): url for chain_id, url in demo_chain_settings.items()}),
        # Every request of the suite comes from 127.0.0.1: a real deployment's per-IP limits would cut it off.
        **{f"FUZZYDICE_{name}": "100000" for name in E2E_RAISED_LIMITS},
    }
    new_vars = {**{k: v for k, v in _reflex_env_defaults().items() if k not in os.environ}, **app_vars}
    saved = {key: os.environ.get(key) for key in new_vars}
    os.environ.update(new_vars)
    _forget_cached_settings()
    try:
        yield app_vars
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        _forget_cached_settings()


def app_child_report(script: str, workdir: Path, *args: str, mode: str = "demo", database_url: str | None = None) -> Any:
    """Run `script` (with `args`) in a new Python process that imports the app; return the JSON of its last line.

    Importing the app in this process would leave its states behind for the app-running tests of the
    session. The child has settings of its own in `workdir` (`mode`, a SQLite file there unless
    `database_url` is given, the secrets file) and its own Reflex states folder: Reflex's disk state
    manager lists that folder on start, and a shared one races other runs of the app.
    """
    from tests.conftest import sqlite_url  # imported here: tests/conftest.py loads this module as a plugin

    env = {k: v for k, v in os.environ.items() if not k.startswith("FUZZYDICE_")}
    env.update(
        REFLEX_TELEMETRY_ENABLED="0",
        REFLEX_CHECK_LATEST_VERSION="0",
        REFLEX_STATES_WORKDIR=str(workdir / "states"),
        FUZZYDICE_MODE=mode,
        FUZZYDICE_DATABASE_URL=database_url or sqlite_url(workdir / "fd.db"),
        FUZZYDICE_SECRETS_FILE=str(workdir / "secrets.json"),
    )
    result = subprocess.run(
        [sys.executable, "-c", script, *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
        timeout=APP_CHILD_TIMEOUT_S, stdin=subprocess.DEVNULL, check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _forget_cached_settings() -> None:
    """Drop settings cached by an earlier import, so the session's environment applies."""
    settings_module = sys.modules.get(f"{APP_NAME}.settings")
    get_settings = getattr(settings_module, "get_settings", None)
    if get_settings is not None and hasattr(get_settings, "cache_clear"):
        get_settings.cache_clear()


def _migrate(env: dict[str, str]) -> None:
    """Bring the session's database to the newest schema (skipped until alembic.ini exists)."""
    if not (REPO_ROOT / "alembic.ini").exists():
        return
    result = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=REPO_ROOT,
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=MIGRATION_TIMEOUT_S,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(
            f"alembic upgrade head failed ({result.returncode}):\n{result.stdout}\n{result.stderr}",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def app_harness(app_env: dict[str, str], app_clock) -> Iterator["AppHarnessProd"]:  # noqa: F821
    """The app, built for production and served on free ports of 127.0.0.1.

    Yields:
        The started ``reflex.testing.AppHarnessProd``.
    """
    from reflex.testing import AppHarnessProd

    class PinnedPortHarness(AppHarnessProd):
        """AppHarnessProd whose frontend listens on the port the origin list names."""

        def _run_frontend(self):
            import uvicorn
            from reflex.utils.exec import _frontend_prod_app

            with contextlib.chdir(self.app_path):
                frontend_app = _frontend_prod_app()
            self.frontend_server = uvicorn.Server(
                uvicorn.Config(app=frontend_app, host="127.0.0.1", port=int(app_env["FUZZYDICE_TEST_FRONTEND_PORT"]))
            )
            self.frontend_server.run()

        def _start_frontend(self):
            super()._start_frontend()
            # As `reflex run --env prod` does (REFLEX_MOUNT_FRONTEND_COMPILED_APP, App.__call__): the backend
            # serves the compiled pages too, on one origin and inside the production ASGI stack (security
            # headers); see `backend_url`. Mounted now because the build exists only after the export.
            from reflex.utils.exec import get_frontend_mount

            with contextlib.chdir(self.app_path):
                self.app_instance._api.routes.append(get_frontend_mount(router=self.app_instance.router))

        def _start_backend(self):
            # AppHarnessProd's, on a port chosen in advance (it is one of the page origins).
            import contextvars
            import threading

            import uvicorn
            from reflex_base.environment import environment

            environment.REFLEX_SKIP_COMPILE.set(True)
            self.backend = uvicorn.Server(
                uvicorn.Config(app=self.app_asgi, host="127.0.0.1", port=int(app_env["FUZZYDICE_TEST_BACKEND_PORT"]))
            )
            self.backend.shutdown = self._get_backend_shutdown_handler()
            context = contextvars.copy_context()
            self.backend_thread = threading.Thread(target=lambda: context.run(self.backend.run))
            self.backend_thread.start()

    _migrate(app_env)
    harness = PinnedPortHarness.create(root=REPO_ROOT, app_name=APP_NAME)
    try:
        harness.start()
        yield harness
    finally:
        harness.stop()
        from fuzzydice.services import set_services

        set_services(None)


@pytest.fixture(scope="session")
def app_clock(app_env: dict[str, str]) -> "OffsetClock":  # noqa: F821
    """The running app's clock: tests move it forward instead of waiting (e.g. a TOTP step)."""
    from fuzzydice.clock import OffsetClock
    from fuzzydice.services import build_services, set_services

    _migrate(app_env)
    clock = OffsetClock()
    set_services(build_services(clock=clock))
    return clock


@pytest.fixture(params=["sqlite", "postgresql"])
def app_database(request: pytest.FixtureRequest, app_harness, app_clock) -> Iterator[str]:
    """The running app on each database in turn: the session's SQLite file, then a new PostgreSQL database.

    For `postgresql` the app's process-wide services (every page and `/api` route asks `get_services()`)
    are swapped for ones with the same settings, keys and clock on a database made from the session's
    migrated PostgreSQL template, and swapped back afterwards: one app build serves both runs.

    Yields:
        The database URL the app uses during the test.
    """
    from fuzzydice.services import build_services, get_services, set_services

    current = get_services()
    if request.param == "sqlite":
        yield current.settings.database_url
        return
    server = request.getfixturevalue("postgres_server")
    name = server.create_database(template=request.getfixturevalue("postgres_template_db"))
    url = server.url(name)
    services = build_services(current.settings.model_copy(update={"database_url": url}), current.clock)
    set_services(services)
    try:
        yield url
    finally:
        set_services(current)
        services.engine.dispose()
        server.drop_database(name)


@pytest.fixture(scope="session")
def base_url(app_harness) -> str:
    """Origin to browse, e.g. ``http://127.0.0.1:41234`` (no trailing slash).

    The page must be on the same host name as the backend (127.0.0.1): cookies are
    per host name, and `localhost` and `127.0.0.1` are different sites.
    """
    assert app_harness.frontend_url, "frontend did not start"
    parts = urlsplit(app_harness.frontend_url)
    netloc = f"127.0.0.1:{parts.port}" if parts.port else "127.0.0.1"
    return urlunsplit((parts.scheme, netloc, parts.path, "", "")).rstrip("/")


@pytest.fixture(scope="session")
def backend_url(app_harness) -> str:
    """Origin of the backend (websocket and `/api`), e.g. ``http://127.0.0.1:41235``.

    Like `reflex run --env prod` (`make run`) it serves the pages too, on one origin and through
    the whole production ASGI stack; `base_url` serves the same build from a plain static server.
    """
    host, port = app_harness.backend.servers[0].sockets[0].getsockname()[:2]
    return f"http://{host}:{port}"


@pytest.fixture(scope="session")
def backend_call(app_harness) -> Callable[..., Any]:
    """Run a coroutine on the backend's event loop and return its result.

    Example: ``backend_call(app_harness.app_instance.state_manager.get_state(token))``.
    """
    loop = app_harness.backend.servers[0].sockets and app_harness.backend.servers[0].get_loop()
    assert loop, "backend is not listening"

    def call(coro: Coroutine[Any, Any, T], timeout: float = BACKEND_CALL_TIMEOUT_S) -> T:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)

    return call


@pytest.fixture(scope="session")
def browser() -> Iterator["Browser"]:  # noqa: F821
    """Debian Chromium driven by Playwright (sync API), one per session."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: run `make test` (it installs Debian chromium)", pytrace=False)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def context(browser) -> Iterator["BrowserContext"]:  # noqa: F821
    """A fresh browser context (own cookies and storage) per test."""
    ctx = browser.new_context()
    ctx.set_default_timeout(15_000)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(context) -> "Page":  # noqa: F821
    """A new tab in the test's context."""
    return context.new_page()


from tests.e2e.wallets import wallet  # noqa: E402,F401  (the injected test wallet fixture)
