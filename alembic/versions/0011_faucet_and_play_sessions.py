"""demo faucet grants and play sessions

`faucet_grants`: what the demo faucet sent, one row per (chain, address, UTC day) and at
most a few per account and day (unique constraints: the row is the reservation).
`play_sessions`: the sessions started on /launch; `running_user_id` is set while one
runs, so an account runs one at a time. Downgrade drops both tables: with rows in them
it stops unless run with `-x allow_data_loss=1`.

Revision ID: 0011
Revises: 0010
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

from fuzzydice import migration_guard

import fuzzydice.models

revision: str = '0011'
down_revision: Union[str, None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('faucet_grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('chain_id', sa.BigInteger(), nullable=False),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=42), nullable=False),
    sa.Column('period_start', fuzzydice.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('user_slot', sa.Integer(), nullable=False),
    sa.Column('requested_at', fuzzydice.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', fuzzydice.models.UtcDateTime(timezone=True), nullable=True),
    sa.Column('transfers', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('chain_id', 'address', 'period_start', name='uq_faucet_grant_address_period'),
    sa.UniqueConstraint('user_id', 'period_start', 'user_slot', name='uq_faucet_grant_user_slot')
    )
    op.create_table('play_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('running_user_id', sa.Integer(), nullable=True),
    sa.Column('chain_id', sa.BigInteger(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('spending_limit', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('symbol', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('started_at', fuzzydice.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', fuzzydice.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', fuzzydice.models.UtcDateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('running_user_id', name='uq_play_session_running_user')
    )
    with op.batch_alter_table('play_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_play_sessions_ends_at'), ['ends_at'], unique=False)
        batch_op.create_index('ix_play_sessions_user_id_started_at', ['user_id', 'started_at'], unique=False)


def downgrade() -> None:
    migration_guard.guard('faucet grants', 'SELECT count(*) FROM faucet_grants')
    migration_guard.guard('play sessions', 'SELECT count(*) FROM play_sessions')
    with op.batch_alter_table('play_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_play_sessions_user_id_started_at')
        batch_op.drop_index(batch_op.f('ix_play_sessions_ends_at'))

    op.drop_table('play_sessions')
    op.drop_table('faucet_grants')