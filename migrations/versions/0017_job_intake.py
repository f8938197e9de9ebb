"""job board and feed intake; pay basis and posting counts on salary data

Revision ID: 0017
Revises: 0005
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0005'
branch_labels = None
depends_on = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=20)


def upgrade() -> None:
    op.create_table('intake_sources',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', _enum('intake_source_kind', 'greenhouse', 'lever', 'ashby', 'feed'), nullable=False),
    sa.Column('board', sa.String(length=2000), nullable=False),
    sa.Column('company', sa.String(length=200), nullable=True),
    sa.Column('auto_accept', sa.Boolean(), nullable=False),
    sa.Column('etag', sa.String(length=300), nullable=True),
    sa.Column('last_modified', sa.String(length=100), nullable=True),
    sa.Column('last_fetched_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_result', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intake_sources')),
    sa.UniqueConstraint('kind', 'board', name=op.f('uq_intake_sources_kind'))
    )
    op.create_table('job_postings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('company', sa.String(length=200), nullable=False),
    sa.Column('location', sa.String(length=200), nullable=False),
    sa.Column('remote', sa.Boolean(), nullable=False),
    sa.Column('level', sa.String(length=50), nullable=False),
    sa.Column('region', sa.String(length=100), nullable=True),
    sa.Column('pay_low', sa.Integer(), nullable=True),
    sa.Column('pay_high', sa.Integer(), nullable=True),
    sa.Column('pay_currency', sa.String(length=3), nullable=True),
    sa.Column('pay_interval', sa.String(length=5), nullable=True),
    sa.Column('pay_basis', sa.String(length=5), nullable=True),
    sa.Column('pay_origin', sa.String(length=10), nullable=True),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('state', _enum('proposal_state', 'proposed', 'accepted', 'rejected', 'expired'), nullable=False),
    sa.Column('reposted', sa.Boolean(), nullable=False),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('gone_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('listing_id', sa.Integer(), nullable=True),
    sa.Column('salary_point_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['listing_id'], ['job_listings.id'], name=op.f('fk_job_postings_listing_id_job_listings'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['salary_point_id'], ['salary_points.id'], name=op.f('fk_job_postings_salary_point_id_salary_points'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['source_id'], ['intake_sources.id'], name=op.f('fk_job_postings_source_id_intake_sources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_postings')),
    sa.UniqueConstraint('source_id', 'external_id', name=op.f('uq_job_postings_source_id'))
    )
    with op.batch_alter_table('job_postings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_postings_listing_id'), ['listing_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_job_postings_source_id'), ['source_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_job_postings_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_job_postings_url'), ['url'], unique=False)

    op.create_table('feed_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('guid', sa.String(length=500), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('state', _enum('feed_item_state', 'proposed', 'accepted', 'rejected', 'expired'), nullable=False),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('snippet_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['snippet_id'], ['snippets.id'], name=op.f('fk_feed_items_snippet_id_snippets'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['source_id'], ['intake_sources.id'], name=op.f('fk_feed_items_source_id_intake_sources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feed_items')),
    sa.UniqueConstraint('source_id', 'guid', name=op.f('uq_feed_items_source_id'))
    )
    with op.batch_alter_table('feed_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feed_items_source_id'), ['source_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_feed_items_state'), ['state'], unique=False)

    with op.batch_alter_table('salary_points', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pay_basis', sa.String(length=5), server_default='total', nullable=False))
        batch_op.add_column(sa.Column('postings', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('salary_comparisons', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pay_basis', sa.String(length=5), server_default='total', nullable=False))
    with op.batch_alter_table('job_listings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('comp_interval', sa.String(length=5), server_default='year', nullable=False))
        batch_op.add_column(sa.Column('comp_basis', sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column('closed_on', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('job_listings', schema=None) as batch_op:
        batch_op.drop_column('closed_on')
        batch_op.drop_column('comp_basis')
        batch_op.drop_column('comp_interval')
    with op.batch_alter_table('salary_comparisons', schema=None) as batch_op:
        batch_op.drop_column('pay_basis')
    with op.batch_alter_table('salary_points', schema=None) as batch_op:
        batch_op.drop_column('postings')
        batch_op.drop_column('pay_basis')
    with op.batch_alter_table('feed_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feed_items_state'))
        batch_op.drop_index(batch_op.f('ix_feed_items_source_id'))
    op.drop_table('feed_items')
    with op.batch_alter_table('job_postings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_postings_url'))
        batch_op.drop_index(batch_op.f('ix_job_postings_state'))
        batch_op.drop_index(batch_op.f('ix_job_postings_source_id'))
        batch_op.drop_index(batch_op.f('ix_job_postings_listing_id'))
    op.drop_table('job_postings')
    op.drop_table('intake_sources')
