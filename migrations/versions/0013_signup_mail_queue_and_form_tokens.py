"""signup mail queue and single-use form tokens

Revision ID: 0013
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0013'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('subscriber_mail_queue',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('subscriber_id', sa.Integer(), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('first_name', sa.String(length=100), nullable=True),
    sa.Column('consent_text', sa.Text(), nullable=True),
    sa.Column('consent_source', sa.String(length=200), nullable=True),
    sa.Column('consent_ip', sa.String(length=64), nullable=True),
    sa.Column('consent_user_agent', sa.String(length=500), nullable=True),
    sa.Column('confirmation_send_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], name=op.f('fk_subscriber_mail_queue_subscriber_id_subscribers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscriber_mail_queue'))
    )
    with op.batch_alter_table('subscriber_mail_queue', schema=None) as batch_op:
        batch_op.create_index('ix_subscriber_mail_queue_due', ['sent_at', 'failed_at', 'due_at'], unique=False)

    op.create_table('used_form_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_used_form_tokens')),
    sa.UniqueConstraint('digest', name=op.f('uq_used_form_tokens_digest'))
    )
    with op.batch_alter_table('used_form_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_used_form_tokens_used_at'), ['used_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('used_form_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_used_form_tokens_used_at'))
    op.drop_table('used_form_tokens')
    with op.batch_alter_table('subscriber_mail_queue', schema=None) as batch_op:
        batch_op.drop_index('ix_subscriber_mail_queue_due')
    op.drop_table('subscriber_mail_queue')
