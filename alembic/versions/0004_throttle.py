"""first-factor throttling: no permanent lock, an operator's disable switch, known sources

The lock that 100 failures set (`users.locked_at`) could be set by anyone who knew
an email address, and nothing cleared it. It becomes `users.disabled_at`, a switch
only an operator sets (`python -m fuzzydice.admin disable`); the old values are
cleared, because strangers set them. `users.consecutive_failures` goes. Each
(account, IP) throttle row keeps the time of its last success: an address the
account signed in from is known and is not slowed by the account-wide backoff.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 10:00:00.000000
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import fuzzydice.models

revision: str = '0004'
down_revision: Union[str, None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('disabled_at', fuzzydice.models.UtcDateTime(timezone=True), nullable=True))
        batch_op.drop_column('locked_at')
        batch_op.drop_column('consecutive_failures')

    with op.batch_alter_table('sign_in_throttles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_success_at', fuzzydice.models.UtcDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sign_in_throttles', schema=None) as batch_op:
        batch_op.drop_column('last_success_at')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('consecutive_failures', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('locked_at', fuzzydice.models.UtcDateTime(timezone=True), nullable=True))

    # An account an operator disabled stays shut in the old schema: as a lock.
    users = sa.table('users', sa.column('locked_at'), sa.column('disabled_at'))
    op.execute(users.update().values(locked_at=users.c.disabled_at))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('disabled_at')
        batch_op.alter_column('consecutive_failures', server_default=None)
