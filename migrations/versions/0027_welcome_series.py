"""the welcome series: one row per (subscriber, step), the series' start, confirmed_at index

Revision ID: 0027
Revises: 0024
Create Date: 2026-12-01 16:30:00

``welcome_sends`` is the series' outbox (pipeline/welcome/models.py): its unique
(subscriber, step) key is what sends each step at most once. ``welcome_series_start`` holds
the moment of this upgrade, so nobody who confirmed before the series existed is mailed it.
The index on ``subscribers.confirmed_at`` lets each pass find the readers a step is due
for without scanning the list. Existing rows need nothing: the new tables start empty.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op


revision = '0027'
down_revision = '0024'
branch_labels = None
depends_on = None

STATUSES = ('pending', 'sending', 'sent', 'failed', 'skipped')


def upgrade() -> None:
    op.create_table('welcome_sends',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscriber_id', sa.Integer(), nullable=False),
    sa.Column('step', sa.String(length=30), nullable=False),
    sa.Column('status', sa.Enum(*STATUSES, name='welcome_send_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('retries', sa.Integer(), nullable=False),
    sa.Column('claim_token', sa.String(length=32), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lease_owner', sa.String(length=300), nullable=True),
    sa.Column('not_before', sa.DateTime(timezone=True), nullable=True),
    sa.Column('provider_message_id', sa.String(length=200), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], name=op.f('fk_welcome_sends_subscriber_id_subscribers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_welcome_sends')),
    sa.UniqueConstraint('subscriber_id', 'step', name='uq_welcome_sends_subscriber_step')
    )
    with op.batch_alter_table('welcome_sends', schema=None) as batch_op:
        batch_op.create_index('ix_welcome_sends_step_status', ['step', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_welcome_sends_claim_token'), ['claim_token'], unique=False)

    start = op.create_table('welcome_series_start',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_welcome_series_start'))
    )
    # The series starts with this upgrade: readers who confirmed before it had the single
    # welcome email already.
    op.bulk_insert(start, [{'id': 1, 'started_at': datetime.now(UTC)}])
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.create_index('ix_subscribers_confirmed_at', ['confirmed_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.drop_index('ix_subscribers_confirmed_at')
    op.drop_table('welcome_series_start')
    with op.batch_alter_table('welcome_sends', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_welcome_sends_claim_token'))
        batch_op.drop_index('ix_welcome_sends_step_status')
    op.drop_table('welcome_sends')
