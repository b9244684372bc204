"""second factors: totp devices, backup codes, second-step lock

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 23:38:07.757928
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

import fuzzydice.models

revision: str = '0002'
down_revision: Union[str, None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('backup_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('created_at', fuzzydice.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('used_at', fuzzydice.models.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code_hash')
    )
    with op.batch_alter_table('backup_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_backup_codes_user_id'), ['user_id'], unique=False)

    op.create_table('second_factor_locks',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('window_started_at', fuzzydice.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('locked_until', fuzzydice.models.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id')
    )
    op.create_table('totp_devices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('secret', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('confirmed_at', fuzzydice.models.UtcDateTime(timezone=True), nullable=True),
    sa.Column('last_step', sa.BigInteger(), nullable=True),
    sa.Column('pending_secret', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('pending_created_at', fuzzydice.models.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id')
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('second_factor_at', fuzzydice.models.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('backup_codes_to_show', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('backup_codes_to_show')
        batch_op.drop_column('second_factor_at')

    op.drop_table('totp_devices')
    op.drop_table('second_factor_locks')
    with op.batch_alter_table('backup_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_backup_codes_user_id'))

    op.drop_table('backup_codes')
