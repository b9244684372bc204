"""second-step lock counted in a sliding window

The lock row keeps the times of its recent failures (a JSON list) instead of a count
and the start of a fixed window, and gets a version for compare-and-set changes.
Rows in force are carried over: each counted failure is dated at the start of its
window, so it stops counting when that window would have ended; the window's start
also stands for the last reservation (slots of dead requests are freed a window later).
Downgrade counts the failures and dates the window at the oldest of them.

Revision ID: 0006
Revises: 0005
"""
import json
from datetime import datetime, timezone
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import fuzzydice.models

revision: str = '0006'
down_revision: Union[str, None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _locks(*columns: sa.Column) -> sa.Table:
    return sa.table('second_factor_locks', sa.column('user_id', sa.Integer()), sa.column('scope', sa.String()), *columns)


def upgrade() -> None:
    with op.batch_alter_table('second_factor_locks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recent_failures', sa.Text(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='0'))
        batch_op.alter_column(
            'window_started_at', new_column_name='last_reserved_at',
            existing_type=sa.DateTime(timezone=True), nullable=True,
        )

    locks = _locks(
        sa.column('failures', sa.Integer()),
        sa.column('last_reserved_at', fuzzydice.models.UtcDateTime(timezone=True)),
        sa.column('recent_failures', sa.Text()),
    )
    bind = op.get_bind()
    for row in bind.execute(sa.select(locks).where(locks.c.failures > 0)).all():
        dated = [row.last_reserved_at.isoformat()] * row.failures
        bind.execute(
            sa.update(locks)
            .where(locks.c.user_id == row.user_id, locks.c.scope == row.scope)
            .values(recent_failures=json.dumps(dated))
        )

    with op.batch_alter_table('second_factor_locks', schema=None) as batch_op:
        batch_op.drop_column('failures')
        batch_op.alter_column('recent_failures', existing_type=sa.Text(), existing_nullable=False, server_default=None)
        batch_op.alter_column('version', existing_type=sa.Integer(), existing_nullable=False, server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('second_factor_locks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failures', sa.Integer(), nullable=False, server_default='0'))

    locks = _locks(
        sa.column('failures', sa.Integer()),
        sa.column('last_reserved_at', fuzzydice.models.UtcDateTime(timezone=True)),
        sa.column('recent_failures', sa.Text()),
    )
    bind = op.get_bind()
    now = datetime.now(timezone.utc)
    for row in bind.execute(sa.select(locks)).all():
        times = [datetime.fromisoformat(t) for t in json.loads(row.recent_failures)]
        started = min(times) if times else (row.last_reserved_at or now)
        bind.execute(
            sa.update(locks)
            .where(locks.c.user_id == row.user_id, locks.c.scope == row.scope)
            .values(failures=len(times), last_reserved_at=started)
        )

    with op.batch_alter_table('second_factor_locks', schema=None) as batch_op:
        batch_op.alter_column(
            'last_reserved_at', new_column_name='window_started_at',
            existing_type=sa.DateTime(timezone=True), nullable=False,
        )
        batch_op.alter_column('failures', existing_type=sa.Integer(), existing_nullable=False, server_default=None)
        batch_op.drop_column('version')
        batch_op.drop_column('recent_failures')
