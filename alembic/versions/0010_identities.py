"""identities: email + password and each wallet in their own rows

Revision ID: 0010
Revises: 0009
"""
from typing import Sequence, Union

revision: str = '0010'
down_revision: Union[str, None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    pass  # placeholder: filled in by the change that needs it


def downgrade() -> None:
    pass
