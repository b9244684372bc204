"""identities: email + password and each wallet in their own rows

Each account's email + password and its wallet move from columns of `users` into
rows of `identities`, so an account can hold several wallets. `users.email`,
`email_normalized`, `password_hash` and `wallet_address` go: one source of truth.

The columns are dropped with ALTER TABLE … DROP COLUMN (SQLite 3.35+), not by
batch mode's copy-and-rename of `users`: with foreign keys on, dropping the old
`users` table would cascade and delete every session, factor and identity of
every account. Downgrade keeps the password and the first wallet of each account
(the old schema has room for one); further wallets are lost.

Revision ID: 0010
Revises: 0009
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

from fuzzydice import migration_guard

import fuzzydice.models

revision: str = '0010'
down_revision: Union[str, None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('identities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('identifier', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('created_at', fuzzydice.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', fuzzydice.models.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('kind', 'identifier', name='uq_identity_kind_identifier')
    )
    with op.batch_alter_table('identities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identities_user_id'), ['user_id'], unique=False)

    op.execute(sa.text(
        "INSERT INTO identities (user_id, kind, identifier, email, password_hash, created_at) "
        "SELECT id, 'password', email_normalized, email, password_hash, created_at FROM users "
        "WHERE email_normalized IS NOT NULL AND password_hash IS NOT NULL ORDER BY id"
    ))
    op.execute(sa.text(
        "INSERT INTO identities (user_id, kind, identifier, created_at) "
        "SELECT id, 'wallet', wallet_address, created_at FROM users WHERE wallet_address IS NOT NULL ORDER BY id"
    ))

    op.drop_index('ix_users_wallet_address', table_name='users')
    op.drop_index('ix_users_email_normalized', table_name='users')
    for column in ('wallet_address', 'password_hash', 'email_normalized', 'email'):
        op.drop_column('users', column)


def downgrade() -> None:
    # The old users table holds one wallet: every further wallet of an account goes.
    migration_guard.guard(
        'wallets beyond the first of their account',
        "SELECT count(*) FROM identities i WHERE i.kind = 'wallet' AND i.id > "
        "(SELECT min(j.id) FROM identities j WHERE j.user_id = i.user_id AND j.kind = 'wallet')",
    )
    op.add_column('users', sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True))
    op.add_column('users', sa.Column('email_normalized', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True))
    op.add_column('users', sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
    op.add_column('users', sa.Column('wallet_address', sqlmodel.sql.sqltypes.AutoString(length=42), nullable=True))

    password = "SELECT {column} FROM identities i WHERE i.user_id = users.id AND i.kind = 'password' LIMIT 1"
    op.execute(sa.text(
        "UPDATE users SET "
        f"email = ({password.format(column='i.email')}), "
        f"email_normalized = ({password.format(column='i.identifier')}), "
        f"password_hash = ({password.format(column='i.password_hash')}), "
        "wallet_address = (SELECT i.identifier FROM identities i WHERE i.user_id = users.id AND i.kind = 'wallet' "
        "ORDER BY i.id LIMIT 1)"
    ))

    op.create_index('ix_users_email_normalized', 'users', ['email_normalized'], unique=True)
    op.create_index('ix_users_wallet_address', 'users', ['wallet_address'], unique=True)

    with op.batch_alter_table('identities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identities_user_id'))
    op.drop_table('identities')
