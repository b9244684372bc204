"""The process-wide bundle of dependencies the flows run on."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlmodel import Session

from fuzzydice.auth.passwords import PasswordHasher
from fuzzydice.clock import Clock, SystemClock
from fuzzydice.db import make_engine, new_session
from fuzzydice.keys import ServerKeys, load_keys, verify_fingerprints
from fuzzydice.settings import Settings, get_settings


@dataclass
class Services:
    """Settings, clock, database and keys: everything a flow needs."""

    settings: Settings
    clock: Clock
    engine: Engine
    keys: ServerKeys
    hasher: PasswordHasher = field(init=False)

    def __post_init__(self) -> None:
        self.hasher = PasswordHasher(
            self.keys.pepper,
            self.settings.bcrypt_cost,
            concurrency=self.settings.hash_concurrency,
            wait=self.settings.hash_wait.total_seconds(),
        )

    def db(self) -> Session:
        """Open a database session (use it as a context manager)."""
        return new_session(self.engine)


def build_services(settings: Settings | None = None, clock: Clock | None = None, *, check_keys: bool = True) -> Services:
    """Assemble services from settings; checks key fingerprints against the database.

    Raises:
        fuzzydice.keys.ServerKeyError: secrets missing in production, or not the recorded ones.
    """
    settings = settings or get_settings()
    clock = clock or SystemClock()
    engine = make_engine(settings.database_url)
    keys = load_keys(settings)
    services = Services(settings=settings, clock=clock, engine=engine, keys=keys)
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
