"""Migration 0008: the audit trail's new columns, on a table that already holds entries, and back.

Entries written before keep their data (and read as `ok`); on the way down, entries
with no account (the old table has no place for them) go and the others stay.
On SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import command

from fuzzydice.db import make_engine
from fuzzydice.models import UtcDateTime
from tests.conftest import alembic_config, downgrade_allowing_data_loss, read_rows as read, write_rows

WHEN = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)

users = sa.table(
    "users", sa.column("id", sa.Integer), sa.column("name", sa.String), sa.column("phone_verified", sa.Boolean),
    sa.column("created_at", UtcDateTime()),
)
old_events = sa.table(
    "audit_events", sa.column("id", sa.Integer), sa.column("user_id", sa.Integer), sa.column("kind", sa.String),
    sa.column("ip", sa.String), sa.column("created_at", UtcDateTime()),
)
new_events = sa.table(
    "audit_events", sa.column("id", sa.Integer), sa.column("user_id", sa.Integer), sa.column("session_id", sa.Integer),
    sa.column("kind", sa.String), sa.column("result", sa.String), sa.column("ip", sa.String),
    sa.column("user_agent", sa.String), sa.column("details", sa.Text), sa.column("created_at", UtcDateTime()),
)


def index_names(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return {index["name"] for index in sa.inspect(engine).get_indexes("audit_events")}
    finally:
        engine.dispose()


def test_entries_survive_the_upgrade_and_the_downgrade_keeps_those_of_accounts(empty_db_url: str) -> None:
    url = empty_db_url
    command.upgrade(alembic_config(url), "0007")
    write_rows(url, users, [dict(id=1, name="Ada", phone_verified=False, created_at=WHEN)])
    write_rows(url, old_events, [dict(id=1, user_id=1, kind="second_step_locked", ip="203.0.113.9", created_at=WHEN)])

    command.upgrade(alembic_config(url), "0008")
    assert read(url, sa.select(new_events).order_by(new_events.c.id)) == [
        (1, 1, None, "second_step_locked", "ok", "203.0.113.9", None, None, WHEN),
    ]
    assert "ix_audit_events_user_id_created_at" in index_names(url)
    write_rows(url, new_events, [
        dict(id=2, user_id=None, session_id=None, kind="sign_in", result="failed", ip="198.51.100.7", user_agent="curl/8",
             details=None, created_at=WHEN),
        dict(id=3, user_id=1, session_id=77, kind="sign_out", result="ok", ip=None, user_agent=None,
             details='{"method":"password"}', created_at=WHEN),
    ])

    downgrade_allowing_data_loss(url, "0007")  # the entry without a user goes
    assert read(url, sa.select(old_events).order_by(old_events.c.id)) == [
        (1, 1, "second_step_locked", "203.0.113.9", WHEN),
        (3, 1, "sign_out", None, WHEN),
    ]
    assert "ix_audit_events_user_id" in index_names(url)
    command.upgrade(alembic_config(url), "head")  # and up again
    assert [row[0] for row in read(url, sa.select(new_events.c.id).order_by(new_events.c.id))] == [1, 3]
