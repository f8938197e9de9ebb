"""issue status reasons: the decision that set the status, why, and send-now requests

Hold and skip reasons move out of ``pause_reason`` (now only the send engine's pause) into
``status_reason``, next to the decision that recorded them.

Revision ID: 0022
Revises: 0016
Create Date: 2026-12-01 13:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0022'
down_revision = '0016'
branch_labels = None
depends_on = None

issues = sa.table(
    'issues',
    sa.column('status', sa.String),
    sa.column('pause_reason', sa.Text),
    sa.column('status_reason', sa.Text),
    sa.column('status_decision', sa.String),
)
# The decision each old status recorded in pause_reason.
DECISIONS = {'held': 'hold', 'skipped': 'skip'}


def upgrade() -> None:
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status_decision', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('status_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('send_requested_at', sa.DateTime(timezone=True), nullable=True))
    for status, decision in DECISIONS.items():
        op.execute(
            issues.update()
            .where(issues.c.status == status)
            .values(status_reason=issues.c.pause_reason, status_decision=decision, pause_reason=None)
        )


def downgrade() -> None:
    for status in DECISIONS:
        op.execute(
            issues.update()
            .where(issues.c.status == status)
            .values(pause_reason=issues.c.status_reason)
        )
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.drop_column('send_requested_at')
        batch_op.drop_column('status_reason')
        batch_op.drop_column('status_decision')
