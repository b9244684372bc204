"""Datetimes go in and come out as timezone-aware UTC; naive ones are refused."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import StatementError

from fuzzydice.clock import FixedClock, SystemClock, as_utc
from fuzzydice.models import KeyFingerprint, UtcDateTime
from fuzzydice.services import Services

UTC_PLUS_2 = timezone(timedelta(hours=2))


def add_fingerprint(services: Services, recorded_at: datetime) -> None:
    with services.db() as session:
        session.add(KeyFingerprint(name="test", key_id="00000000", fingerprint="0" * 64, recorded_at=recorded_at))
        session.commit()


def read_fingerprint(services: Services) -> datetime:
    with services.db() as session:
        return session.execute(sa.select(KeyFingerprint.recorded_at).where(KeyFingerprint.name == "test")).scalar_one()


def test_aware_datetimes_come_back_as_utc(services: Services) -> None:
    local = datetime(2026, 3, 1, 14, 30, 15, 123456, tzinfo=UTC_PLUS_2)
    add_fingerprint(services, local)
    stored = read_fingerprint(services)
    assert stored == local
    assert stored.tzinfo is not None and stored.utcoffset() == timedelta(0)
    assert stored.hour == 12  # converted to UTC, not stored with its local wall time


def test_a_naive_datetime_is_refused(services: Services) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        add_fingerprint(services, datetime(2026, 3, 1, 14, 30))


def test_the_type_itself_refuses_naive_and_passes_none() -> None:
    column_type = UtcDateTime()
    with pytest.raises(ValueError, match="naive"):
        column_type.process_bind_param(datetime(2026, 1, 1), dialect=None)
    assert column_type.process_bind_param(None, dialect=None) is None
    assert column_type.process_result_value(None, dialect=None) is None
    assert column_type.process_result_value(datetime(2026, 1, 1), dialect=None).tzinfo == timezone.utc


def test_datetimes_compare_in_sql_across_offsets(services: Services) -> None:
    # 12:30 UTC written as 14:30+02:00 is before 13:00 UTC.
    add_fingerprint(services, datetime(2026, 3, 1, 14, 30, tzinfo=UTC_PLUS_2))
    with services.db() as session:
        earlier = session.execute(
            sa.select(sa.func.count())
            .select_from(KeyFingerprint)
            .where(KeyFingerprint.recorded_at < datetime(2026, 3, 1, 13, 0, tzinfo=timezone.utc))
            .where(KeyFingerprint.name == "test")
        ).scalar_one()
    assert earlier == 1


def test_clocks_tell_aware_utc() -> None:
    for clock in (SystemClock(), FixedClock()):
        assert clock.now().utcoffset() == timedelta(0)
    fixed = FixedClock(datetime(2026, 1, 1, tzinfo=timezone.utc))
    assert fixed.advance(1.5) == datetime(2026, 1, 1, 0, 0, 1, 500000, tzinfo=timezone.utc)
    assert fixed.advance(timedelta(minutes=1)) == datetime(2026, 1, 1, 0, 1, 1, 500000, tzinfo=timezone.utc)
    assert as_utc(datetime(2026, 1, 1, 2, tzinfo=UTC_PLUS_2)) == datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert as_utc(datetime(2026, 1, 1)).tzinfo == timezone.utc
