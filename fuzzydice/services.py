"""The process-wide bundle of dependencies the flows run on."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlmodel import Session

from fuzzydice.auth.passwords import PasswordHasher
from fuzzydice.chain.client import ChainClient, Web3ChainClient
from fuzzydice.clock import Clock, SystemClock
from fuzzydice.db import make_engine, new_session
from fuzzydice.keys import ServerKeys, load_keys, verify_fingerprints
from fuzzydice.notify import Notifier, build_notifier
from fuzzydice.settings import Settings, get_settings


@dataclass
class Services:
    """Settings, clock, database, keys and the outside world (mail/SMS, chains): everything a flow needs.

    `notifier` and `chain` are built from settings when not given (tests may pass their own).
    """

    settings: Settings
    clock: Clock
    engine: Engine
    keys: ServerKeys
    notifier: Notifier = None  # type: ignore[assignment]  # built in __post_init__ when None
    chain: ChainClient = None  # type: ignore[assignment]  # built in __post_init__ when None
    hasher: PasswordHasher = field(init=False)

    def __post_init__(self) -> None:
        if self.notifier is None:
            self.notifier = build_notifier(self.settings, self.engine, self.clock)
        if self.chain is None:
            self.chain = Web3ChainClient(self.settings)
        self.hasher = PasswordHasher(
            self.keys.pepper,
            self.settings.bcrypt_cost,
            concurrency=self.settings.hash_concurrency,
            wait=self.settings.hash_wait.total_seconds(),
        )

    def db(self) -> Session:
        """Open a database session (use it as a context manager)."""
        return new_session(self.engine)


def build_services(
    settings: Settings | None = None,
    clock: Clock | None = None,
    *,
    check_keys: bool = True,
    notifier: Notifier | None = None,
    chain: ChainClient | None = None,
) -> Services:
    """Assemble services from settings; checks key fingerprints against the database.

    `notifier` and `chain` replace the ones the settings would choose (tests).

    Raises:
        fuzzydice.keys.ServerKeyError: secrets missing in production, or not the recorded ones.
    """
    settings = settings or get_settings()
    clock = clock or SystemClock()
    engine = make_engine(settings.database_url)
    keys = load_keys(settings)
    services = Services(settings=settings, clock=clock, engine=engine, keys=keys, notifier=notifier, chain=chain)
    if check_keys:
        with services.db() as session:
            verify_fingerprints(session, keys, clock)
    return services


_lock = threading.Lock()
_services: Services | None = None


def get_services() -> Services:
    """Return the process-wide services, building them on first use."""
    global _services
    with _lock:
        if _services is None:
            _services = build_services()
        return _services


def set_services(services: Services | None) -> None:
    """Replace the process-wide services (tests; None to rebuild on next use)."""
    global _services
    with _lock:
        _services = services
