"""audit trail of security events

Revision ID: 0008
Revises: 0007
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op

from fuzzydice import migration_guard

revision: str = '0008'
down_revision: Union[str, None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column('session_id', sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column('result', sqlmodel.sql.sqltypes.AutoString(length=16), server_default='ok', nullable=False)
        )
        batch_op.add_column(sa.Column('user_agent', sqlmodel.sql.sqltypes.AutoString(length=512), nullable=True))
        batch_op.add_column(sa.Column('details', sa.Text(), nullable=True))
        batch_op.drop_index(batch_op.f('ix_audit_events_user_id'))
        batch_op.create_index('ix_audit_events_user_id_created_at', ['user_id', 'created_at'], unique=False)


def downgrade() -> None:
    # The old table has no place for entries without a user (failed sign-ins of unknown emails).
    migration_guard.guard('audit entries without a user', 'SELECT count(*) FROM audit_events WHERE user_id IS NULL')
    op.execute(sa.text('DELETE FROM audit_events WHERE user_id IS NULL'))
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_user_id_created_at')
        batch_op.create_index(batch_op.f('ix_audit_events_user_id'), ['user_id'], unique=False)
        batch_op.drop_column('details')
        batch_op.drop_column('user_agent')
        batch_op.drop_column('result')
        batch_op.drop_column('session_id')
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=False)
