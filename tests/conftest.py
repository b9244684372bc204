"""Shared fixtures of the unit and integration tests (the e2e tests have their own).

Every test gets its own copy of a database migrated once per session with
Alembic, demo-mode settings with a cheap bcrypt cost, a pinned clock, and the
real services built on them. Nothing here is mocked.

A test that uses the database (the `db_url` fixture, through `settings` or
`services` too) runs twice: on SQLite (id `sqlite`) and on a private PostgreSQL
cluster started once per session (id `postgresql`, tests/postgres_server.py).
Tests of SQLite itself use the `db_path` fixture or the `sqlite_only` marker.
"""

from __future__ import annotations

import shutil
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `pytest` run without `python -m` from the repo root
    sys.path.insert(0, str(ROOT))

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402

from fuzzydice import services as services_module  # noqa: E402
from fuzzydice.auth import flows  # noqa: E402
from fuzzydice.clock import FixedClock  # noqa: E402
from fuzzydice.services import Services, build_services  # noqa: E402
from fuzzydice.settings import Settings  # noqa: E402
from tests.postgres_server import PostgresServer, PostgresUnavailable  # noqa: E402

TEST_BCRYPT_COST = 4  # the test profile: bcrypt's minimum, so hashing costs ~1 ms
STRONG_PASSWORD = "violet kettle drums at noon"

# The app-running fixtures (harness, browser), the demo chains (demo_chains, demo_chain_settings) and the
# faucet's (faucet_services, wallet_user), registered once for every folder that uses them.
pytest_plugins = ["tests.app_fixtures", "tests.demo_chain_fixtures", "tests.funding_fixtures"]

DATABASES = ("sqlite", "postgresql")
"""The backends every database-touching test runs on (the `db_backend` parameter)."""


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of a SQLite file."""
    return f"sqlite:///{path}"


def alembic_config(url: str) -> Config:
    """An Alembic config for `url` that leaves the test run's logging alone."""
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "alembic"))
    cfg.set_main_option("path_separator", "os")  # silences alembic's legacy-splitting warning
    cfg.attributes["database_url"] = url
    cfg.attributes["configure_logger"] = False
    return cfg


def read_rows(url: str, query) -> list[tuple]:
    """Run a query on the database at `url` (as a migration test sees it) and return its rows as tuples."""
    from fuzzydice.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(query)]
    finally:
        engine.dispose()


def write_rows(url: str, table, rows: list[dict[str, Any]]) -> None:
    """Insert `rows` into `table` (as a migration test sees it, e.g. an `sa.table` of an old revision) of the
    database at `url`, in one transaction."""
    from fuzzydice.db import make_engine

    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(table.insert(), rows)
    finally:
        engine.dispose()


def downgrade_allowing_data_loss(url: str, revision: str) -> None:
    """A downgrade that drops data: refused as the operator would see it, then run with their consent."""
    from fuzzydice.migration_guard import DataLossRefused

    with pytest.raises(DataLossRefused, match="allow_data_loss"):
        command.downgrade(alembic_config(url), revision)
    config = alembic_config(url)
    config.attributes["allow_data_loss"] = True
    command.downgrade(config, revision)


def migrate(url: str) -> None:
    """Run every migration on the database at `url`."""
    command.upgrade(alembic_config(url), "head")


def make_settings(tmp_path: Path, database_url: str, **overrides: Any) -> Settings:
    """Demo-mode settings of the test profile; secrets are generated into `tmp_path`.

    Secrets and the cookie switch are passed explicitly so that FUZZYDICE_*
    variables of the surrounding environment cannot leak in.
    """
    values: dict[str, Any] = dict(
        mode="demo",
        database_url=database_url,
        secrets_file=tmp_path / "secrets.json",
        bcrypt_cost=TEST_BCRYPT_COST,
        pepper=None,
        aes_key=None,
        signing_key=None,
        secure_cookies=None,
    )
    values.update(overrides)
    return Settings(**values)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every test that uses `db_backend` (all database fixtures do) on each backend.

    A test reading the SQLite file itself (`db_path`) or marked `sqlite_only` runs on SQLite only.
    """
    if "db_backend" not in metafunc.fixturenames:
        return
    sqlite_only = "db_path" in metafunc.fixturenames or metafunc.definition.get_closest_marker("sqlite_only")
    metafunc.parametrize("db_backend", ["sqlite"] if sqlite_only else list(DATABASES), indirect=True)


@pytest.fixture
def db_backend(request: pytest.FixtureRequest) -> str:
    """`sqlite` or `postgresql`: the backend this run of the test is on."""
    return request.param


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's private PostgreSQL cluster (started on first use, stopped by PID at the end)."""
    try:
        server = PostgresServer().start()
    except PostgresUnavailable as exc:
        pytest.fail(f"PostgreSQL test cluster: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def migrated_template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per test session; tests copy it."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    migrate(sqlite_url(path))
    # The migration's engine is disposed, so the WAL was checkpointed into the file.
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0
    return path


@pytest.fixture(scope="session")
def postgres_template_db(postgres_server: PostgresServer) -> str:
    """A PostgreSQL database migrated to head once per session; tests are created from it."""
    name = postgres_server.create_database()
    migrate(postgres_server.url(name))  # disposes its engine: a template must have no connection
    return name


@pytest.fixture
def db_path(migrated_template_db: Path, tmp_path: Path) -> Path:
    """This test's own migrated SQLite file (a test using it runs on SQLite only)."""
    path = tmp_path / "fuzzydice.db"
    shutil.copyfile(migrated_template_db, path)
    return path


@pytest.fixture
def db_url(db_backend: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """URL of this test's own migrated database: a SQLite file, or a PostgreSQL database made from the template."""
    if db_backend == "sqlite":
        yield sqlite_url(request.getfixturevalue("db_path"))
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.create_database(template=request.getfixturevalue("postgres_template_db"))
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)


@pytest.fixture
def empty_db_url(db_backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """URL of a new, empty database (no migration run) on this test's backend."""
    if db_backend == "sqlite":
        yield sqlite_url(tmp_path / "empty.db")
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.create_database()
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    """Test-profile settings (demo mode, bcrypt cost 4) on this test's database."""
    return make_settings(tmp_path, db_url)


@pytest.fixture
def clock() -> FixedClock:
    """A clock that moves only when the test says so."""
    return FixedClock()


@pytest.fixture
def services(settings: Settings, clock: FixedClock) -> Iterator[Services]:
    """Real services (engine, keys, hasher) on the test database and the pinned clock."""
    built = build_services(settings, clock)
    yield built
    built.engine.dispose()


@pytest.fixture
def api_services(services: Services) -> Iterator[Services]:
    """The services installed process-wide, as the `/api` routes look them up."""
    services_module.set_services(services)
    yield services
    services_module.set_services(None)


@pytest.fixture
def make_user(services: Services) -> Callable[..., int]:
    """Register a password account through the real flow; returns its id."""
    counter = iter(range(1, 10_000))

    def make(email: str | None = None, password: str = STRONG_PASSWORD, name: str = "Ada Lovelace") -> int:
        email = email or f"user{next(counter)}@example.com"
        outcome = flows.register(services, name=name, email=email, password=password)
        assert outcome.ok, outcome
        return outcome.value.user_id

    return make


# Enrolled users (`tests.mfa.conftest.Enrolled`, through the real flows). The helpers of tests/mfa/conftest.py
# are imported inside the fixtures: that module imports this one.
@pytest.fixture
def enrolled(services: Services, make_user: Callable[..., int]) -> Iterator[Any]:
    """A user with TOTP active (activated one step ago), ten backup codes and a sign-in waiting for its code.

    Afterwards, no audit entry the test left holds the secret, a code of it or a backup code.
    """
    from tests.mfa.conftest import TYPED_WRONG, assert_audit_holds_none_of, codes_since, enrol, step_now

    user = enrol(services, make_user())
    since = step_now(services) - 1
    yield user
    codes = codes_since(services, user.secret, since)
    assert_audit_holds_none_of(services, [user.secret, *user.backup_codes, *codes, *TYPED_WRONG])


# An enrolled user and a full session of theirs (not fresh until a test steps it up): the factor-change and
# step-up tests.
@pytest.fixture
def user(services: Services, make_user: Callable[..., int]) -> Any:
    """A user enrolled through the real flows: TOTP active, backup codes shown."""
    from tests.mfa.conftest import enrol

    return enrol(services, make_user())


@pytest.fixture
def token(services: Services, user: Any) -> str:
    """A full session of `user` (both factors done), through the real hand-off."""
    return full_session(services, user.user_id)


@pytest.fixture
def sid(services: Services, token: str) -> int:
    """The id of the full session `token`."""
    return session_id_of(services, token)


def run_in_parallel(task: Callable[[], Any], workers: int = 20) -> list[Any]:
    """Run `task` in `workers` threads released at once by a barrier; returns the results.

    Raises the first exception a worker hit, so a crash is never mistaken for a refusal.
    """
    start = threading.Barrier(workers)
    results: list[Any] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait(timeout=30)
            results.append(task())
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a worker hung"
    if errors:
        raise errors[0]
    return results


@pytest.fixture
def checkpw_calls(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every bcrypt check that runs (a spy that calls the real bcrypt); pre-compute dummy hashes first."""
    import bcrypt

    from fuzzydice.auth import passwords

    calls: list[bytes] = []
    real_checkpw = bcrypt.checkpw

    def spy(password: bytes, hashed: bytes) -> bool:
        calls.append(hashed)
        return real_checkpw(password, hashed)

    monkeypatch.setattr(passwords.bcrypt, "checkpw", spy)
    return calls


TEST_TAB = "test-tab-client-token"
"""The client token of the tab every core-level hand-off in the tests belongs to."""


def handoff(
    services: Services, user_id: int, factor_level: int, replaces_token: str | None = None, *,
    ip: str = "203.0.113.10", user_agent: str = "test",
) -> tuple[flows.IssuedTicket, flows.ClaimedSession]:
    """The real session hand-off (ticket, then claim, from one tab, at `ip` with `user_agent`): the ticket and
    the session claimed with it."""
    ticket = flows.start_session_handoff(
        services, user_id=user_id, factor_level=factor_level, remember=False, next_path="/user/home",
        tab=TEST_TAB, replaces_token=replaces_token,
    )
    claimed = flows.claim_session(
        services, ticket=ticket.ticket, bind=ticket.bind, tab=TEST_TAB, ip=ip, user_agent=user_agent
    )
    assert claimed is not None
    return ticket, claimed


def claimed_session(services: Services, user_id: int, factor_level: int, replaces_token: str | None = None) -> str:
    """A session through the real hand-off (ticket, then claim, from one tab); returns its token."""
    return handoff(services, user_id, factor_level, replaces_token)[1].token


def full_session(services: Services, user_id: int) -> str:
    """A session with both factors done, through the real hand-off; returns its token."""
    from fuzzydice.auth.sessions import FULL

    return claimed_session(services, user_id, FULL)


def pending_session(services: Services, user_id: int) -> tuple[str, int]:
    """A first-factor-only session (as after the password), through the real hand-off: (token, session id)."""
    from fuzzydice.auth.sessions import FIRST_FACTOR

    token = claimed_session(services, user_id, FIRST_FACTOR)
    return token, session_id_of(services, token)


def session_id_of(services: Services, token: str) -> int:
    """The id of the live session behind `token`."""
    info = flows.current_session(services, token, touch=False)
    assert info is not None
    return info.session_id


def sessions_of(services: Services, user_id: int) -> set[int]:
    """The ids of every session row of the user (live or ended)."""
    import sqlalchemy as sa

    from fuzzydice.models import AuthSession

    with services.db() as session:
        return set(session.execute(sa.select(AuthSession.id).where(AuthSession.user_id == user_id)).scalars())


def next_totp_code(services: Services, clock: FixedClock, secret: str) -> str:
    """A code of `secret` for a TOTP step no code was accepted at yet (the clock moves one step on)."""
    import pyotp

    clock.advance(services.settings.totp_period)
    return pyotp.TOTP(secret).at(clock.now())
