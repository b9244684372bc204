"""Server-side sessions: token strength, hashed storage, expiry, refresh, revocation."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from fuzzydice.auth import flows, sessions
from fuzzydice.auth.sessions import FIRST_FACTOR, FULL
from fuzzydice.auth.tokens import new_token, token_hash
from fuzzydice.clock import FixedClock
from fuzzydice.models import AuthSession
from fuzzydice.services import Services


@pytest.fixture
def user_id(make_user: Callable[..., int]) -> int:
    return make_user("grace@example.com")


@pytest.fixture
def start(services: Services, clock: FixedClock, user_id: int) -> Callable[..., str]:
    """Create a session for the user now; returns its token."""

    def create(remember: bool = False, factor_level: int = FULL) -> str:
        with services.db() as session:
            token = sessions.create_session(
                session,
                user_id=user_id,
                factor_level=factor_level,
                remember=remember,
                now=clock.now(),
                settings=services.settings,
                ip="203.0.113.1",
                user_agent="pytest",
            )
            session.commit()
        return token

    return create


def lookup(services: Services, token: str | None, *, touch: bool = True) -> sessions.SessionInfo | None:
    with services.db() as session:
        return sessions.lookup_session(session, token, services.clock.now(), services.settings, touch=touch)


def session_rows(services: Services) -> list[AuthSession]:
    with services.db() as session:
        return list(session.exec(sa.select(AuthSession)).scalars())


def test_token_has_256_bits() -> None:
    token = new_token()
    assert len(token) >= 43
    assert len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) == 32
    assert len({new_token() for _ in range(1000)}) == 1000


def test_only_the_sha256_of_the_token_is_stored(services: Services, start, db_path: Path) -> None:
    token = start()
    rows = session_rows(services)
    assert len(rows) == 1
    assert rows[0].token_hash == token_hash(token)
    assert len(rows[0].token_hash) == 64
    values = [str(value) for row in rows for value in row.model_dump().values()]
    assert all(token not in value for value in values)
    services.engine.dispose()  # flush the WAL, then search every byte on disk
    for path in db_path.parent.glob(f"{db_path.name}*"):
        assert token.encode() not in path.read_bytes(), path


def test_a_token_never_issued_is_refused(services: Services, start) -> None:
    start()
    assert lookup(services, new_token()) is None
    assert lookup(services, "") is None
    assert lookup(services, None) is None


def test_lookup_returns_the_user_and_aware_utc_times(services: Services, start, user_id: int, clock) -> None:
    info = lookup(services, start())
    assert info is not None
    assert info.user_id == user_id and info.factor_level == FULL and info.is_full
    assert info.absolute_expires_at == clock.now() + timedelta(hours=24)
    assert info.absolute_expires_at.utcoffset() == timedelta(0)


def test_idle_expiry_after_one_hour(services: Services, start, clock: FixedClock) -> None:
    token = start()
    clock.advance(timedelta(hours=1) - timedelta(seconds=1))
    assert lookup(services, token, touch=False) is not None
    clock.advance(timedelta(seconds=1))
    assert lookup(services, token, touch=False) is None
    assert len(session_rows(services)) == 1  # dead now; the periodic cleanup deletes the row


def test_activity_slides_the_idle_expiry(services: Services, start, clock: FixedClock) -> None:
    token = start()
    clock.advance(timedelta(minutes=45))
    assert lookup(services, token, touch=True) is not None
    clock.advance(timedelta(minutes=45))  # 90 min after sign-in, 45 after the activity
    assert lookup(services, token, touch=True) is not None


def test_a_background_check_does_not_slide_the_idle_expiry(services: Services, start, clock: FixedClock) -> None:
    token = start()
    clock.advance(timedelta(minutes=45))
    assert lookup(services, token, touch=False) is not None
    clock.advance(timedelta(minutes=15))
    assert lookup(services, token, touch=False) is None


def test_touch_writes_at_most_once_per_interval(services: Services, start, clock: FixedClock) -> None:
    token = start()
    created = session_rows(services)[0].idle_expires_at
    clock.advance(30)
    lookup(services, token)
    assert session_rows(services)[0].idle_expires_at == created
    clock.advance(30)
    lookup(services, token)
    assert session_rows(services)[0].idle_expires_at == clock.now() + timedelta(hours=1)


def test_absolute_expiry_after_24_hours_even_when_active(services: Services, start, clock: FixedClock) -> None:
    token = start()
    for _ in range(47):  # active every 30 minutes for 23.5 hours
        clock.advance(timedelta(minutes=30))
        assert lookup(services, token) is not None
    clock.advance(timedelta(minutes=30))
    assert lookup(services, token) is None


@pytest.mark.parametrize(("remember", "idle", "absolute"), [(False, 1 / 24, 1), (True, 7, 30)])
def test_lifetimes(services: Services, start, clock: FixedClock, remember, idle, absolute) -> None:
    token = start(remember=remember)
    row = session_rows(services)[0]
    assert row.remember is remember
    assert row.idle_expires_at - clock.now() == timedelta(days=idle)
    assert row.absolute_expires_at - clock.now() == timedelta(days=absolute)
    clock.advance(timedelta(days=idle) - timedelta(seconds=1))
    assert lookup(services, token, touch=False) is not None
    clock.advance(timedelta(seconds=1))
    assert lookup(services, token, touch=False) is None


def test_remember_me_ends_at_30_days_even_when_active(services: Services, start, clock: FixedClock) -> None:
    token = start(remember=True)
    for _ in range(4):  # active every 6 days, up to day 24
        clock.advance(timedelta(days=6))
        assert lookup(services, token) is not None
    clock.advance(timedelta(days=6))
    assert lookup(services, token) is None


def test_idle_refresh_never_passes_the_absolute_expiry(services: Services, start, clock: FixedClock) -> None:
    token = start()
    clock.advance(timedelta(hours=23, minutes=30))
    # Keep it alive up to there.
    with services.db() as session:
        session.execute(
            sa.update(AuthSession.__table__).values(idle_expires_at=clock.now() + timedelta(minutes=1))
        )
        session.commit()
    assert lookup(services, token) is not None
    assert session_rows(services)[0].idle_expires_at == session_rows(services)[0].absolute_expires_at


def test_revoke_kills_the_session_at_once(services: Services, start) -> None:
    token, other = start(), start()
    with services.db() as session:
        assert sessions.revoke_session(session, token) is not None
        session.commit()
        assert sessions.revoke_session(session, token) is None
    assert lookup(services, token) is None
    assert lookup(services, other) is not None


def test_delete_expired_sessions(services: Services, start, clock: FixedClock) -> None:
    start()
    keep = start(remember=True)
    clock.advance(timedelta(hours=2))
    with services.db() as session:
        assert sessions.delete_expired_sessions(session, clock.now()) == 1
    assert [row.token_hash for row in session_rows(services)] == [token_hash(keep)]


def test_deleting_the_user_ends_their_sessions(services: Services, start, user_id: int) -> None:
    token = start()
    with services.db() as session:
        session.execute(sa.text("DELETE FROM users WHERE id = :id"), {"id": user_id})
        session.commit()
    assert lookup(services, token) is None
    assert session_rows(services) == []


def test_absolute_expiry_holds_even_if_the_idle_expiry_is_later(services: Services, start, clock) -> None:
    token = start()
    with services.db() as session:  # a row from an older release, or a bad manual edit
        session.execute(sa.update(AuthSession.__table__).values(idle_expires_at=clock.now() + timedelta(days=9)))
        session.commit()
    clock.advance(timedelta(hours=24))
    assert lookup(services, token, touch=False) is None


def test_first_factor_only_session_lasts_the_pending_window(services: Services, start, clock: FixedClock) -> None:
    token = start(remember=True, factor_level=FIRST_FACTOR)
    clock.advance(services.settings.pending_second_step - timedelta(seconds=1))
    info = lookup(services, token, touch=False)
    assert info is not None and not info.is_full
    with services.db() as session:
        assert not sessions.expired_before_second_step(session, token, clock.now())
    clock.advance(timedelta(seconds=1))
    assert lookup(services, token, touch=False) is None
    with services.db() as session:
        assert sessions.expired_before_second_step(session, token, clock.now())


def test_expired_full_session_is_not_reported_as_a_pending_one(services: Services, start, clock: FixedClock) -> None:
    token = start()
    clock.advance(timedelta(hours=2))
    with services.db() as session:
        assert not sessions.expired_before_second_step(session, token, clock.now())
        assert not sessions.expired_before_second_step(session, "unknown", clock.now())


def test_a_session_id_is_never_handed_out_again(services, user_id: int) -> None:
    # The audit trail names sessions by id: a signed-out session's id must not come back for the next one.
    from tests.conftest import full_session, session_id_of

    token = full_session(services, user_id)
    first = session_id_of(services, token)
    assert flows.sign_out(services, token)
    assert session_id_of(services, full_session(services, user_id)) > first
