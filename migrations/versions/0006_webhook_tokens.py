"""webhook tokens

Revision ID: 0006
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0006'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('webhook_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('token', sa.String(length=200), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_tokens')),
    sa.UniqueConstraint('provider', 'token', name='uq_webhook_tokens_provider_token')
    )
    with op.batch_alter_table('webhook_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_tokens_seen_at'), ['seen_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('webhook_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_tokens_seen_at'))

    op.drop_table('webhook_tokens')
