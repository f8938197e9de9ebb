"""click analytics: engagements, delivery retries, issue links, click-tracking preference

Revision ID: 0016
Revises: 0005
Create Date: 2026-12-01 10:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0016'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('engagements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('click', 'open', name='engagement_kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('issue_id', sa.Integer(), nullable=False),
    sa.Column('delivery_id', sa.Integer(), nullable=False),
    sa.Column('subscriber_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('method', sa.String(length=8), nullable=False),
    sa.Column('prefetch', sa.Boolean(), nullable=False),
    sa.Column('network', sa.String(length=64), nullable=True),
    sa.Column('agent', sa.String(length=40), nullable=False),
    sa.Column('machine', sa.Boolean(), nullable=False),
    sa.Column('reasons', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['delivery_id'], ['deliveries.id'], name=op.f('fk_engagements_delivery_id_deliveries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['issue_id'], ['issues.id'], name=op.f('fk_engagements_issue_id_issues'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], name=op.f('fk_engagements_subscriber_id_subscribers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_engagements'))
    )
    with op.batch_alter_table('engagements', schema=None) as batch_op:
        batch_op.create_index('ix_engagements_delivery_at', ['delivery_id', 'at'], unique=False)
        batch_op.create_index('ix_engagements_issue_kind_position', ['issue_id', 'kind', 'position'], unique=False)
        batch_op.create_index(batch_op.f('ix_engagements_subscriber_id'), ['subscriber_id'], unique=False)

    op.create_table('delivery_retries',
    sa.Column('delivery_id', sa.Integer(), nullable=False),
    sa.Column('retried_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('previous_error', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['delivery_id'], ['deliveries.id'], name=op.f('fk_delivery_retries_delivery_id_deliveries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('delivery_id', name=op.f('pk_delivery_retries'))
    )
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.add_column(sa.Column('links_json', sa.Text(), nullable=True))
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('track_clicks', sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.drop_column('track_clicks')
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.drop_column('links_json')
    op.drop_table('delivery_retries')
    with op.batch_alter_table('engagements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_engagements_subscriber_id'))
        batch_op.drop_index('ix_engagements_issue_kind_position')
        batch_op.drop_index('ix_engagements_delivery_at')
    op.drop_table('engagements')
