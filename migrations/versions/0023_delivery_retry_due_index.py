"""deliveries: a partial index for rows set aside to retry, beside the lease columns

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-01 13:30:00

``lease_until`` (how long a sender holds a row) and ``not_before`` (when a row set aside
after a temporary refusal may be claimed again) have been separate columns since 0012,
which moved the "not before" meaning out of ``lease_until``. This adds the index the
queries over ``not_before`` use: the next retry due, and how many are waiting. Rows that
were never deferred (nearly all) have no entry, so claims and results pay nothing for it.
Existing rows are unchanged; a pending row still holding a lease from before 0012 (none
should) is moved as 0012 would have moved it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

DEFERRED = sa.text('not_before IS NOT NULL')


def upgrade() -> None:
    # A pending row is not leased: any lease_until left on one is an old "not before".
    op.execute(
        "UPDATE deliveries SET not_before = lease_until, lease_until = NULL "
        "WHERE status = 'pending' AND lease_until IS NOT NULL AND not_before IS NULL"
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index(
            'ix_deliveries_retry_due',
            ['issue_id', 'not_before'],
            unique=False,
            sqlite_where=DEFERRED,
            postgresql_where=DEFERRED,
        )


def downgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_retry_due')
