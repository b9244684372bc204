"""Migration 0010: each account's email + password and wallet move into rows of `identities`, and back.

A database at revision 0009 is filled the way that schema held identities (columns of
`users`), then upgraded; on SQLite and PostgreSQL. Nothing else of the accounts may be
lost on the way (dropping columns by copying `users` would cascade to their sessions).
"""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import command

from fuzzydice.db import make_engine
from fuzzydice.models import UtcDateTime
from tests.conftest import alembic_config, downgrade_allowing_data_loss, read_rows as read, write_rows

CREATED = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
WALLET_A = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
WALLET_B = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
HASH = "fd1$k1$$2b$04$abcdefghijklmnopqrstuv"

old_users = sa.table(
    "users", sa.column("id", sa.Integer), sa.column("name", sa.String), sa.column("email", sa.String),
    sa.column("email_normalized", sa.String), sa.column("password_hash", sa.String),
    sa.column("wallet_address", sa.String), sa.column("phone_verified", sa.Boolean), sa.column("created_at", UtcDateTime()),
)
sessions = sa.table(
    "auth_sessions", sa.column("id", sa.Integer), sa.column("token_hash", sa.String), sa.column("user_id", sa.Integer),
    sa.column("factor_level", sa.Integer), sa.column("remember", sa.Boolean),
    *(sa.column(name, UtcDateTime()) for name in ("created_at", "last_seen_at", "idle_expires_at", "absolute_expires_at")),
)
identities = sa.table(
    "identities", sa.column("user_id", sa.Integer), sa.column("kind", sa.String), sa.column("identifier", sa.String),
    sa.column("email", sa.String), sa.column("password_hash", sa.String), sa.column("created_at", UtcDateTime()),
)


def fill_0009(url: str) -> None:
    """Three accounts as 0009 kept them: password + wallet, wallet only, password only; a session for each."""
    write_rows(url, old_users, [
        dict(id=1, name="Ada", email="Ada@Example.com", email_normalized="ada@example.com", password_hash=HASH,
             wallet_address=WALLET_A, phone_verified=False, created_at=CREATED),
        dict(id=2, name="0x5aAe…eAed", email=None, email_normalized=None, password_hash=None,
             wallet_address=WALLET_B, phone_verified=False, created_at=CREATED),
        dict(id=3, name="Bo", email="bo@example.com", email_normalized="bo@example.com", password_hash=HASH + "x",
             wallet_address=None, phone_verified=False, created_at=CREATED),
    ])
    write_rows(url, sessions, [
        dict(id=n, token_hash=f"{n:064d}", user_id=n, factor_level=2, remember=False, created_at=CREATED,
             last_seen_at=CREATED, idle_expires_at=CREATED, absolute_expires_at=CREATED)
        for n in (1, 2, 3)
    ])


def test_identities_move_into_rows_and_the_accounts_keep_everything_else(empty_db_url: str) -> None:
    url = empty_db_url
    command.upgrade(alembic_config(url), "0009")
    fill_0009(url)
    command.upgrade(alembic_config(url), "0010")

    t = sa.table(
        "identities", sa.column("user_id"), sa.column("kind"), sa.column("identifier"), sa.column("email"),
        sa.column("password_hash"), sa.column("created_at", UtcDateTime()), sa.column("last_used_at"),
    )
    assert read(url, sa.select(t).order_by(t.c.user_id, t.c.kind)) == [
        (1, "password", "ada@example.com", "Ada@Example.com", HASH, CREATED, None),
        (1, "wallet", WALLET_A, None, None, CREATED, None),
        (2, "wallet", WALLET_B, None, None, CREATED, None),
        (3, "password", "bo@example.com", "bo@example.com", HASH + "x", CREATED, None),
    ]
    engine = make_engine(url)
    columns = {c["name"] for c in sa.inspect(engine).get_columns("users")}
    engine.dispose()
    assert not columns & {"email", "email_normalized", "password_hash", "wallet_address"}  # one source of truth
    assert read(url, sa.text("SELECT id, user_id FROM auth_sessions ORDER BY id")) == [(1, 1), (2, 2), (3, 3)]
    assert read(url, sa.text("SELECT id, name FROM users ORDER BY id")) == [(1, "Ada"), (2, "0x5aAe…eAed"), (3, "Bo")]


def test_downgrade_keeps_the_password_and_the_first_wallet(empty_db_url: str) -> None:
    url = empty_db_url
    command.upgrade(alembic_config(url), "0009")
    fill_0009(url)
    command.upgrade(alembic_config(url), "0010")
    later = datetime(2026, 11, 2, tzinfo=timezone.utc)
    write_rows(url, identities, [  # a second wallet for Bo: the old schema has no room for it
        dict(user_id=3, kind="wallet", identifier="0x" + "cd" * 20, created_at=later),
        dict(user_id=3, kind="wallet", identifier="0x" + "ab" * 20, created_at=later),
    ])

    downgrade_allowing_data_loss(url, "0009")  # Bo's second wallet goes
    assert read(url, sa.select(
        old_users.c.id, old_users.c.email, old_users.c.email_normalized, old_users.c.password_hash, old_users.c.wallet_address
    ).order_by(old_users.c.id)) == [
        (1, "Ada@Example.com", "ada@example.com", HASH, WALLET_A),
        (2, None, None, None, WALLET_B),
        (3, "bo@example.com", "bo@example.com", HASH + "x", "0x" + "cd" * 20),
    ]
    assert read(url, sa.text("SELECT id, user_id FROM auth_sessions ORDER BY id")) == [(1, 1), (2, 2), (3, 3)]
    command.upgrade(alembic_config(url), "head")  # and up again
