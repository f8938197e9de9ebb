"""event intake at scale and bounded tables: issue summaries, an index to prune events by

Revision ID: 0031
Revises: 0029
Create Date: 2026-12-01 17:00:00

``issue_summaries`` keeps an issue's report figures when ``pulse db prune`` deletes its
per-recipient rows. ``provider_events.received_at`` gets an index so pruning finds old
events that match no delivery without reading the table. Both work on a populated
database (a new empty table; an index built over the existing rows).

On PostgreSQL two more things, neither part of the models: the raw payload column is left
out of the planner's statistics (it is never filtered on, and sampling it made ANALYZE of
a big events table slow), and the tables event intake reads are analysed, so the first
intake after the upgrade plans its lookups as index probes (see pipeline/events/statistics.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0031'
down_revision = '0029'
branch_labels = None
depends_on = None

INTAKE_TABLES = ('deliveries', 'provider_events', 'subscribers')


def upgrade() -> None:
    op.create_table(
        'issue_summaries',
        sa.Column('issue_id', sa.Integer(), nullable=False),
        sa.Column('pruned_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('figures', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ['issue_id'],
            ['issues.id'],
            name=op.f('fk_issue_summaries_issue_id_issues'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('issue_id', name=op.f('pk_issue_summaries')),
    )
    with op.batch_alter_table('provider_events', schema=None) as batch_op:
        batch_op.create_index('ix_provider_events_received_at', ['received_at'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE provider_events ALTER COLUMN raw SET STATISTICS 0')
        for table in INTAKE_TABLES:
            op.execute(f'ANALYZE {table}')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE provider_events ALTER COLUMN raw SET STATISTICS -1')
    with op.batch_alter_table('provider_events', schema=None) as batch_op:
        batch_op.drop_index('ix_provider_events_received_at')
    op.drop_table('issue_summaries')
