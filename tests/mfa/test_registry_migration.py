"""Migration 0009 moves existing second factors onto the registry: enrolled users keep signing in with them."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pyotp
import sqlalchemy as sa
from alembic import command

from fuzzydice.clock import FixedClock
from fuzzydice.db import make_engine
from fuzzydice.keys import load_keys
from fuzzydice.mfa import backup_codes, flows, totp
from fuzzydice.mfa.kinds.totp import SECRET_PURPOSE
from fuzzydice.mfa.secret_box import seal
from fuzzydice.models import UtcDateTime
from fuzzydice.outcome import Code, Failure, Ok
from fuzzydice.services import build_services
from tests.conftest import alembic_config, make_settings, migrate, pending_session, write_rows


def test_enrolled_users_keep_their_authenticator_and_backup_codes(empty_db_url: str, tmp_path: Path) -> None:
    url = empty_db_url
    command.upgrade(alembic_config(url), "0008")
    settings = make_settings(tmp_path, url)
    keys = load_keys(settings)
    clock = FixedClock()
    now = clock.now()
    secret = totp.new_secret()
    last_step = totp.time_step(now, settings) - 1
    kept_code, used_code = backup_codes.new_codes(2)
    users = sa.table(
        "users", sa.column("id"), sa.column("name"), sa.column("phone_verified"), sa.column("created_at", UtcDateTime())
    )
    devices = sa.table(
        "totp_devices", sa.column("user_id"), sa.column("secret"), sa.column("confirmed_at", UtcDateTime()),
        sa.column("last_step"),
    )
    codes = sa.table(
        "backup_codes", sa.column("user_id"), sa.column("code_hash"), sa.column("created_at", UtcDateTime()),
        sa.column("used_at", UtcDateTime()),
    )
    write_rows(url, users, [{"id": i, "name": n, "phone_verified": False, "created_at": now} for i, n in ((1, "Ada"), (2, "Bo"))])
    sealed = seal(keys.aes_key, secret.encode(), purpose=SECRET_PURPOSE, user_id=1)
    write_rows(url, devices, [
        {"user_id": 1, "secret": sealed, "confirmed_at": now - timedelta(days=3), "last_step": last_step},
        {"user_id": 2, "secret": None, "confirmed_at": None, "last_step": None},  # never confirmed: no factor
    ])
    write_rows(url, codes, [
        {"user_id": 1, "code_hash": backup_codes.code_hash(keys.signing_key, code), "created_at": now - timedelta(days=3),
         "used_at": used}
        for code, used in ((kept_code, None), (used_code, now - timedelta(days=1)))
    ])

    migrate(url)

    services = build_services(settings, clock)
    try:
        with services.db() as session:
            rows = session.execute(sa.text("SELECT user_id, kind, label, counter FROM second_factors ORDER BY kind")).all()
        assert [tuple(r) for r in rows] == [(1, "backup_codes", "Backup codes", None), (1, "totp", "Authenticator app", last_step)]
        # The same authenticator app still signs in; the step it last gave stays used.
        _, sid = pending_session(services, 1)
        assert flows.verify_second_step(services, user_id=1, session_id=sid, code=pyotp.TOTP(secret).at(now)) == Ok()
        _, sid = pending_session(services, 1)
        old = pyotp.TOTP(secret).at(now - timedelta(seconds=settings.totp_period))
        assert flows.verify_second_step(services, user_id=1, session_id=sid, code=old) == Failure(Code.CODE_ALREADY_USED)
        # The unused backup code works; the one used before the migration stays used.
        assert flows.verify_second_step(
            services, user_id=1, session_id=sid, code=used_code, method=flows.BACKUP
        ) == Failure(Code.WRONG_CODE, attempts_left=4)
        assert flows.verify_second_step(services, user_id=1, session_id=sid, code=kept_code, method=flows.BACKUP) == Ok()
        # The user whose enrolment never finished has no factor: the journey asks them to enrol.
        assert flows.remaining_backup_codes(services, 2) == 0
        with services.db() as session:
            assert session.execute(sa.text("SELECT count(*) FROM second_factors WHERE user_id = 2")).scalar() == 0
    finally:
        services.engine.dispose()

    # And back: the authenticator returns to its old table.
    command.downgrade(alembic_config(url), "0008")
    engine = make_engine(url)
    with engine.connect() as connection:
        row = connection.execute(sa.text("SELECT user_id, last_step FROM totp_devices")).one()
        assert tuple(row) == (1, totp.time_step(now, settings))  # the step accepted after the migration
        assert connection.execute(sa.text("SELECT second_factor_at IS NOT NULL FROM users WHERE id = 1")).scalar()
    engine.dispose()
