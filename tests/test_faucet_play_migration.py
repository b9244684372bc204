"""Migration 0011: the faucet's grants and the play sessions get their tables; a downgrade that would drop rows
stops and says how many, unless the operator allows it."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from alembic import command

from fuzzydice.db import make_engine
from fuzzydice.migration_guard import DataLossRefused
from fuzzydice.models import UtcDateTime
from tests.conftest import alembic_config, downgrade_allowing_data_loss, read_rows as read, write_rows

AT = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
ADDRESS = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"

users = sa.table("users", sa.column("id", sa.Integer), sa.column("name", sa.String),
                 sa.column("phone_verified", sa.Boolean), sa.column("created_at", UtcDateTime()))
grants = sa.table(
    "faucet_grants", sa.column("user_id", sa.Integer), sa.column("chain_id", sa.BigInteger), sa.column("address", sa.String),
    sa.column("period_start", UtcDateTime()), sa.column("user_slot", sa.Integer), sa.column("requested_at", UtcDateTime()),
)
plays = sa.table(
    "play_sessions", sa.column("user_id", sa.Integer), sa.column("running_user_id", sa.Integer),
    sa.column("chain_id", sa.BigInteger), sa.column("minutes", sa.Integer), sa.column("spending_limit", sa.String),
    sa.column("symbol", sa.String), sa.column("started_at", UtcDateTime()), sa.column("ends_at", UtcDateTime()),
)


def tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_empty_tables_go_without_asking_and_come_back(empty_db_url: str) -> None:
    url = empty_db_url
    command.upgrade(alembic_config(url), "0011")
    assert {"faucet_grants", "play_sessions"} <= tables(url)
    command.downgrade(alembic_config(url), "0010")
    assert not {"faucet_grants", "play_sessions"} & tables(url)
    command.upgrade(alembic_config(url), "head")
    assert {"faucet_grants", "play_sessions"} <= tables(url)


@pytest.mark.parametrize("filled", ["faucet_grants", "play_sessions"])
def test_a_downgrade_that_would_drop_rows_needs_consent(empty_db_url: str, filled: str) -> None:
    url = empty_db_url
    command.upgrade(alembic_config(url), "0011")
    write_rows(url, users, [dict(id=1, name="Ada", phone_verified=False, created_at=AT)])
    if filled == "faucet_grants":
        write_rows(url, grants, [dict(user_id=1, chain_id=31337, address=ADDRESS, period_start=AT, user_slot=0,
                                      requested_at=AT)])
    else:
        write_rows(url, plays, [dict(user_id=1, running_user_id=1, chain_id=31337, minutes=15, spending_limit="0.5",
                                     symbol="ETH", started_at=AT, ends_at=AT)])
    with pytest.raises(DataLossRefused, match=r"1 (faucet grants|play sessions)"):
        command.downgrade(alembic_config(url), "0010")
    assert read(url, sa.text(f"SELECT count(*) FROM {filled}")) == [(1,)]  # nothing went
    downgrade_allowing_data_loss(url, "0010")
    assert filled not in tables(url)
    assert read(url, sa.text("SELECT id, name FROM users")) == [(1, "Ada")]


def test_the_constraints_hold_in_the_database(empty_db_url: str) -> None:
    url = empty_db_url
    command.upgrade(alembic_config(url), "0011")
    write_rows(url, users, [dict(id=n, name=f"U{n}", phone_verified=False, created_at=AT) for n in (1, 2)])
    grant = dict(user_id=1, chain_id=31337, address=ADDRESS, period_start=AT, user_slot=0, requested_at=AT)
    write_rows(url, grants, [grant])
    with pytest.raises(sa.exc.IntegrityError):  # the same address, chain and day, from another account
        write_rows(url, grants, [{**grant, "user_id": 2}])
    with pytest.raises(sa.exc.IntegrityError):  # the account's slot 0 of the day, for another chain
        write_rows(url, grants, [{**grant, "chain_id": 31338}])
    play = dict(user_id=1, running_user_id=1, chain_id=31337, minutes=15, spending_limit="1", symbol="ETH",
                started_at=AT, ends_at=AT)
    write_rows(url, plays, [play, {**play, "running_user_id": None}, {**play, "running_user_id": None}])
    with pytest.raises(sa.exc.IntegrityError):  # a second running session of one account
        write_rows(url, plays, [play])
