"""history suppressions events

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('suppressions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email_hash', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.Enum('unsubscribed', 'bounced', 'complained', 'erased', 'manual', name='suppression_reason', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suppressions')),
    sa.UniqueConstraint('email_hash', name=op.f('uq_suppressions_email_hash'))
    )
    op.create_table('subscriber_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscriber_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('from_status', sa.Enum('pending', 'active', 'unsubscribed', 'bounced', 'complained', name='history_from_status', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('to_status', sa.Enum('pending', 'active', 'unsubscribed', 'bounced', 'complained', name='history_to_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('cause', sa.String(length=60), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], name=op.f('fk_subscriber_history_subscriber_id_subscribers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscriber_history'))
    )
    with op.batch_alter_table('subscriber_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subscriber_history_subscriber_id'), ['subscriber_id'], unique=False)

    op.create_table('provider_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('event_key', sa.String(length=200), nullable=False),
    sa.Column('type', sa.Enum('delivered', 'deferred', 'bounced', 'complained', 'unsubscribed', 'opened', 'clicked', 'rejected', 'unknown', name='event_type', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('bounce_kind', sa.Enum('hard', 'soft', name='bounce_kind', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('recipient', sa.String(length=320), nullable=True),
    sa.Column('provider_message_id', sa.String(length=200), nullable=True),
    sa.Column('delivery_id', sa.Integer(), nullable=True),
    sa.Column('subscriber_id', sa.Integer(), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('raw', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['delivery_id'], ['deliveries.id'], name=op.f('fk_provider_events_delivery_id_deliveries'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], name=op.f('fk_provider_events_subscriber_id_subscribers'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_provider_events')),
    sa.UniqueConstraint('provider', 'event_key', name='uq_provider_events_provider_event_key')
    )
    with op.batch_alter_table('provider_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_provider_events_delivery_id'), ['delivery_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_provider_events_provider_message_id'), ['provider_message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_provider_events_subscriber_id'), ['subscriber_id'], unique=False)
        batch_op.create_index('ix_provider_events_type_occurred', ['type', 'occurred_at'], unique=False)




def downgrade() -> None:
    
    with op.batch_alter_table('provider_events', schema=None) as batch_op:
        batch_op.drop_index('ix_provider_events_type_occurred')
        batch_op.drop_index(batch_op.f('ix_provider_events_subscriber_id'))
        batch_op.drop_index(batch_op.f('ix_provider_events_provider_message_id'))
        batch_op.drop_index(batch_op.f('ix_provider_events_delivery_id'))

    op.drop_table('provider_events')
    with op.batch_alter_table('subscriber_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subscriber_history_subscriber_id'))

    op.drop_table('subscriber_history')
    op.drop_table('suppressions')

