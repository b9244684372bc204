"""secrets bound to the session that made them, scoped second-step lock, tab-bound tickets, audit events

Pending authenticator secrets and fresh backup codes move from the user (where every
session of the user saw them) to the session row. Pending values are transient: the
old per-user ones are dropped, not moved (nobody can tell which session they were for).
The second-step lock gets a scope (sign-in or step-up) and counts codes in flight.
SIWE chain ids become 64-bit (real chain ids exceed 2**31).

Revision ID: 0005
Revises: 0004
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

import fuzzydice.models

revision: str = '0005'
down_revision: Union[str, None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('auth_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pending_totp_secret', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True))
        batch_op.add_column(sa.Column('pending_totp_created_at', fuzzydice.models.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('backup_codes_to_show', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True))
    with op.batch_alter_table('totp_devices', schema=None) as batch_op:
        batch_op.drop_column('pending_secret')
        batch_op.drop_column('pending_created_at')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('backup_codes_to_show')
    with op.batch_alter_table('claim_tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tab_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False, server_default=''))
    with op.batch_alter_table('siwe_challenges', schema=None) as batch_op:
        batch_op.alter_column('chain_id', existing_type=sa.Integer(), type_=sa.BigInteger(), existing_nullable=False)

    # The lock's key changes (user, scope): its rows are short-lived counters, so start afresh.
    op.drop_table('second_factor_locks')
    op.create_table('second_factor_locks',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('in_flight', sa.Integer(), nullable=False),
    sa.Column('window_started_at', fuzzydice.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('locked_until', fuzzydice.models.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'scope')
    )

    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('ip', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('created_at', fuzzydice.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('seen_at', fuzzydice.models.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_created_at'), ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_created_at'))
        batch_op.drop_index(batch_op.f('ix_audit_events_user_id'))
    op.drop_table('audit_events')

    op.drop_table('second_factor_locks')
    op.create_table('second_factor_locks',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('window_started_at', fuzzydice.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('locked_until', fuzzydice.models.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id')
    )

    with op.batch_alter_table('siwe_challenges', schema=None) as batch_op:
        batch_op.alter_column('chain_id', existing_type=sa.BigInteger(), type_=sa.Integer(), existing_nullable=False)
    with op.batch_alter_table('claim_tickets', schema=None) as batch_op:
        batch_op.drop_column('tab_hash')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('backup_codes_to_show', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True))
    with op.batch_alter_table('totp_devices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pending_secret', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True))
        batch_op.add_column(sa.Column('pending_created_at', fuzzydice.models.UtcDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('auth_sessions', schema=None) as batch_op:
        batch_op.drop_column('backup_codes_to_show')
        batch_op.drop_column('pending_totp_created_at')
        batch_op.drop_column('pending_totp_secret')
