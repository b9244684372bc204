"""registry of second factors; how a session proved each step

TOTP devices and backup codes move onto one table of second factors (`second_factors`):
each confirmed authenticator becomes a `totp` row (same sealed secret, same last step),
and each user holding backup codes gets a `backup_codes` row (the codes themselves stay
in `backup_codes`). `users.second_factor_at` goes: the registry says whether a user
has a second factor. Sessions and hand-off tickets record which factor proved the first
step and which the second (so the two can be told apart, and the API can report them).

Revision ID: 0009
Revises: 0008
"""
from datetime import datetime, timezone
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

import fuzzydice.models

revision: str = '0009'
down_revision: Union[str, None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

AUTHENTICATOR_LABEL = "Authenticator app"
BACKUP_LABEL = "Backup codes"


def upgrade() -> None:
    factors = op.create_table('second_factors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('slot', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('label', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('created_at', fuzzydice.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', fuzzydice.models.UtcDateTime(timezone=True), nullable=True),
    sa.Column('sealed_data', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('counter', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id', 'kind', 'slot', name='uq_second_factor_slot')
    )
    with op.batch_alter_table('second_factors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_second_factors_user_id'), ['user_id'], unique=False)

    bind = op.get_bind()
    now = datetime.now(timezone.utc)
    devices = sa.table(
        'totp_devices', sa.column('user_id', sa.Integer()), sa.column('secret', sa.String()),
        sa.column('confirmed_at', fuzzydice.models.UtcDateTime()), sa.column('last_step', sa.BigInteger()),
    )
    rows = [
        {"user_id": r.user_id, "kind": "totp", "slot": "", "label": AUTHENTICATOR_LABEL,
         "created_at": r.confirmed_at or now, "last_used_at": None, "sealed_data": r.secret, "counter": r.last_step}
        for r in bind.execute(sa.select(devices).where(devices.c.secret.is_not(None)))
    ]
    codes = sa.table(
        'backup_codes', sa.column('user_id', sa.Integer()), sa.column('created_at', fuzzydice.models.UtcDateTime()),
        sa.column('used_at', fuzzydice.models.UtcDateTime()),
    )
    for r in bind.execute(
        sa.select(codes.c.user_id, sa.func.min(codes.c.created_at).label('created_at'),
                  sa.func.max(codes.c.used_at).label('last_used_at')).group_by(codes.c.user_id)
    ):
        rows.append({"user_id": r.user_id, "kind": "backup_codes", "slot": "", "label": BACKUP_LABEL,
                     "created_at": r.created_at or now, "last_used_at": r.last_used_at, "sealed_data": None,
                     "counter": None})
    if rows:
        op.bulk_insert(factors, rows)
    op.drop_table('totp_devices')

    # Whether a user has a second factor is read from the registry now: one source of truth.
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('second_factor_at')

    # Session ids are never reused on SQLite either (AUTOINCREMENT): the audit trail names sessions by id.
    if op.get_bind().dialect.name == 'sqlite':
        with op.batch_alter_table('auth_sessions', recreate='always', table_kwargs={'sqlite_autoincrement': True}):
            pass

    for table in ('auth_sessions', 'claim_tickets'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('first_factor', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
            batch_op.add_column(sa.Column('second_factor', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))


def downgrade() -> None:
    for table in ('claim_tickets', 'auth_sessions'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('second_factor')
            batch_op.drop_column('first_factor')

    devices = op.create_table('totp_devices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('secret', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('confirmed_at', fuzzydice.models.UtcDateTime(timezone=True), nullable=True),
    sa.Column('last_step', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id')
    )
    bind = op.get_bind()
    factors = sa.table(
        'second_factors', sa.column('user_id', sa.Integer()), sa.column('kind', sa.String()),
        sa.column('sealed_data', sa.String()), sa.column('created_at', fuzzydice.models.UtcDateTime()),
        sa.column('counter', sa.BigInteger()),
    )
    rows = [
        {"user_id": r.user_id, "secret": r.sealed_data, "confirmed_at": r.created_at, "last_step": r.counter}
        for r in bind.execute(sa.select(factors).where(factors.c.kind == 'totp'))
    ]
    if rows:
        op.bulk_insert(devices, rows)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('second_factor_at', fuzzydice.models.UtcDateTime(timezone=True), nullable=True))
    users = sa.table('users', sa.column('id', sa.Integer()), sa.column('second_factor_at', fuzzydice.models.UtcDateTime()))
    for row in rows:
        bind.execute(sa.update(users).where(users.c.id == row["user_id"]).values(second_factor_at=row["confirmed_at"]))
    with op.batch_alter_table('second_factors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_second_factors_user_id'))
    op.drop_table('second_factors')
