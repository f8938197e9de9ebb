"""subscriber pause and confirmation sends

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-25 22:22:21.552232
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0004'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('confirmation_sends',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscriber_id', sa.Integer(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], name=op.f('fk_confirmation_sends_subscriber_id_subscribers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_confirmation_sends'))
    )
    with op.batch_alter_table('confirmation_sends', schema=None) as batch_op:
        batch_op.create_index('ix_confirmation_sends_subscriber_sent', ['subscriber_id', 'sent_at'], unique=False)

    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paused_until', sa.DateTime(timezone=True), nullable=True))




def downgrade() -> None:
    
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.drop_column('paused_until')

    with op.batch_alter_table('confirmation_sends', schema=None) as batch_op:
        batch_op.drop_index('ix_confirmation_sends_subscriber_sent')

    op.drop_table('confirmation_sends')

