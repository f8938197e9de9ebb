"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('issues',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('week_key', sa.String(length=8), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('preheader', sa.String(length=300), nullable=False),
    sa.Column('status', sa.Enum('built', 'held', 'sending', 'paused', 'sent', 'skipped', name='issue_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('mjml', sa.Text(), nullable=False),
    sa.Column('html', sa.Text(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('built_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('send_started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('pause_reason', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issues')),
    sa.UniqueConstraint('number', name=op.f('uq_issues_number')),
    sa.UniqueConstraint('week_key', name=op.f('uq_issues_week_key'))
    )
    op.create_table('salary_points',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=100), nullable=False),
    sa.Column('level', sa.String(length=50), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('low', sa.Integer(), nullable=False),
    sa.Column('high', sa.Integer(), nullable=False),
    sa.Column('region', sa.String(length=100), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('sample_size', sa.Integer(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_salary_points'))
    )
    with op.batch_alter_table('salary_points', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_salary_points_as_of'), ['as_of'], unique=False)
        batch_op.create_index(batch_op.f('ix_salary_points_role'), ['role'], unique=False)

    op.create_table('subscribers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('email_key', sa.String(length=320), nullable=False),
    sa.Column('first_name', sa.String(length=100), nullable=True),
    sa.Column('status', sa.Enum('pending', 'active', 'unsubscribed', 'bounced', 'complained', name='subscriber_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('unsubscribed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('consent_text', sa.Text(), nullable=True),
    sa.Column('consent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('consent_ip', sa.String(length=64), nullable=True),
    sa.Column('consent_user_agent', sa.String(length=500), nullable=True),
    sa.Column('consent_source', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscribers')),
    sa.UniqueConstraint('email_key', name=op.f('uq_subscribers_email_key'))
    )
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subscribers_status'), ['status'], unique=False)

    op.create_table('deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issue_id', sa.Integer(), nullable=False),
    sa.Column('subscriber_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'sending', 'sent', 'failed', 'skipped', name='delivery_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('provider_message_id', sa.String(length=200), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['issue_id'], ['issues.id'], name=op.f('fk_deliveries_issue_id_issues'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], name=op.f('fk_deliveries_subscriber_id_subscribers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deliveries')),
    sa.UniqueConstraint('issue_id', 'subscriber_id', name='uq_deliveries_issue_subscriber')
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_deliveries_issue_status_id', ['issue_id', 'status', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_deliveries_provider_message_id'), ['provider_message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_deliveries_subscriber_id'), ['subscriber_id'], unique=False)

    op.create_table('job_listings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company', sa.String(length=200), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('location', sa.String(length=200), nullable=False),
    sa.Column('remote', sa.Boolean(), nullable=False),
    sa.Column('comp_low', sa.Integer(), nullable=True),
    sa.Column('comp_high', sa.Integer(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.Column('issue_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['issue_id'], ['issues.id'], name=op.f('fk_job_listings_issue_id_issues')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_listings')),
    sa.UniqueConstraint('url', name=op.f('uq_job_listings_url'))
    )
    with op.batch_alter_table('job_listings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_listings_issue_id'), ['issue_id'], unique=False)

    op.create_table('snippets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('section', sa.Enum('editors-note', 'salary-pulse', 'whos-hiring', 'role-insights', 'quick-links', name='snippet_section', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body_md', sa.Text(), nullable=False),
    sa.Column('link', sa.String(length=2000), nullable=True),
    sa.Column('status', sa.Enum('draft', 'ready', 'used', name='snippet_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('target_week', sa.String(length=8), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('issue_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['issue_id'], ['issues.id'], name=op.f('fk_snippets_issue_id_issues')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_snippets'))
    )
    with op.batch_alter_table('snippets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_snippets_issue_id'), ['issue_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_snippets_status'), ['status'], unique=False)




def downgrade() -> None:
    
    with op.batch_alter_table('snippets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_snippets_status'))
        batch_op.drop_index(batch_op.f('ix_snippets_issue_id'))

    op.drop_table('snippets')
    with op.batch_alter_table('job_listings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_listings_issue_id'))

    op.drop_table('job_listings')
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deliveries_subscriber_id'))
        batch_op.drop_index(batch_op.f('ix_deliveries_provider_message_id'))
        batch_op.drop_index('ix_deliveries_issue_status_id')

    op.drop_table('deliveries')
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subscribers_status'))

    op.drop_table('subscribers')
    with op.batch_alter_table('salary_points', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_salary_points_role'))
        batch_op.drop_index(batch_op.f('ix_salary_points_as_of'))

    op.drop_table('salary_points')
    op.drop_table('issues')

