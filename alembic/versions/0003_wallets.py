"""wallet identities, SIWE challenges, rate-limit windows, step-up

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 23:54:27.345347
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

import fuzzydice.models

revision: str = '0003'
down_revision: Union[str, None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('rate_limit_windows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('window_start', fuzzydice.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key', 'window_start', name='uq_rate_limit_key_window')
    )
    with op.batch_alter_table('rate_limit_windows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rate_limit_windows_window_start'), ['window_start'], unique=False)

    op.create_table('siwe_challenges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('nonce', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('message', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=42), nullable=False),
    sa.Column('chain_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('binding_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', fuzzydice.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', fuzzydice.models.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('siwe_challenges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_siwe_challenges_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_siwe_challenges_nonce'), ['nonce'], unique=True)

    with op.batch_alter_table('auth_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fresh_until', fuzzydice.models.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('wallet_fresh_until', fuzzydice.models.UtcDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('wallet_address', sqlmodel.sql.sqltypes.AutoString(length=42), nullable=True))
        batch_op.create_index(batch_op.f('ix_users_wallet_address'), ['wallet_address'], unique=True)



def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_wallet_address'))
        batch_op.drop_column('wallet_address')

    with op.batch_alter_table('auth_sessions', schema=None) as batch_op:
        batch_op.drop_column('wallet_fresh_until')
        batch_op.drop_column('fresh_until')

    with op.batch_alter_table('siwe_challenges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_siwe_challenges_nonce'))
        batch_op.drop_index(batch_op.f('ix_siwe_challenges_expires_at'))

    op.drop_table('siwe_challenges')
    with op.batch_alter_table('rate_limit_windows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rate_limit_windows_window_start'))

    op.drop_table('rate_limit_windows')
