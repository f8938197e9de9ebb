"""process liveness on leases, per-recipient retry schedule, shared provider holds

Revision ID: 0012
Revises: 0005
Create Date: 2026-12-01 10:05:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0012'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('send_holds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('until', sa.Float(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_send_holds'))
    )
    with op.batch_alter_table('send_holds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_send_holds_until'), ['until'], unique=False)

    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lease_owner', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('not_before', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('retries', sa.Integer(), server_default='0', nullable=False))
    # A pending row's lease_until used to mean "not before": move it to its own column.
    op.execute(
        "UPDATE deliveries SET not_before = lease_until, lease_until = NULL "
        "WHERE status = 'pending' AND lease_until IS NOT NULL"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE deliveries SET lease_until = not_before "
        "WHERE status = 'pending' AND not_before IS NOT NULL"
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_column('retries')
        batch_op.drop_column('not_before')
        batch_op.drop_column('lease_owner')

    with op.batch_alter_table('send_holds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_send_holds_until'))

    op.drop_table('send_holds')
