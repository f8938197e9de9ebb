"""who discarded an issue, and when

Revision ID: 0021
Revises: 0005
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0021'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.add_column(sa.Column('discarded_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('discarded_by', sa.String(length=320), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.drop_column('discarded_by')
        batch_op.drop_column('discarded_at')
