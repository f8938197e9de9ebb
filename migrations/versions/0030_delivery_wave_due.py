"""deliveries: when each reader's copy is due, for local-time sending (PULSE_SEND_LOCAL_TIME)

Revision ID: 0030
Revises: 0027
Create Date: 2026-12-01 16:30:00

``due_at`` holds the UTC instant a reader's wave goes out (the send day at the local send
time in the reader's time zone); the claim passes over rows not yet due. It is a column of
its own rather than ``not_before`` (a retry's wait, cleared at each claim and counted as
"refused for now"). The partial index finds the next wave and counts the rows waiting for it;
sends without waves leave the column NULL and have no entry. Existing rows get NULL: due at
once, as they always were. Both directions alter the table in place, so no row hanging on a
delivery (clicks, retries, events) is touched.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0030'
down_revision = '0027'
branch_labels = None
depends_on = None

HAS_WAVE = sa.text('due_at IS NOT NULL')


def upgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            'ix_deliveries_wave_due',
            ['issue_id', 'due_at'],
            unique=False,
            sqlite_where=HAS_WAVE,
            postgresql_where=HAS_WAVE,
        )


def downgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_wave_due')
    # In place (SQLite 3.35+ drops a column natively): a table copy would DROP deliveries
    # with foreign keys on, and SQLite would cascade the clicks and retries hanging on them.
    with op.batch_alter_table('deliveries', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('due_at')
