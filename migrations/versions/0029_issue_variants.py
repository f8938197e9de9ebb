"""the tailored issue: snippets aimed at roles, rendered variants, each delivery's variant

Revision ID: 0029
Revises: 0026
Create Date: 2026-12-01 16:30:00

``snippets.target_roles`` (comma-separated profile roles; NULL: everyone) lets an editor aim
a snippet at some readers. ``issue_variants`` holds each tailored variant of an issue,
rendered once at build. ``deliveries.variant`` is the variant a delivery's reader gets,
set when the row is created (NULL: the default issue), and claims take one variant at a
time, so the claim index gains the column. Existing rows keep NULL everywhere: every issue
built before this sends its one default render, as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0029'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('snippets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('target_roles', sa.String(length=200), nullable=True))
    op.create_table(
        'issue_variants',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('issue_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=80), nullable=False),
        sa.Column('level', sa.String(length=20), nullable=True),
        sa.Column('region', sa.String(length=2), nullable=True),
        sa.Column('role', sa.String(length=30), nullable=True),
        sa.Column('rank', sa.Integer(), nullable=False),
        sa.Column('readers', sa.Integer(), nullable=False),
        sa.Column('mjml', sa.Text(), nullable=False),
        sa.Column('html', sa.Text(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['issue_id'], ['issues.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('issue_id', 'key', name='uq_issue_variants_issue_key'),
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('variant', sa.String(length=80), nullable=True))
        batch_op.drop_index('ix_deliveries_issue_status_id')
        batch_op.create_index(
            'ix_deliveries_issue_status_variant_id',
            ['issue_id', 'status', 'variant', 'id'],
            unique=False,
        )


def downgrade() -> None:
    # recreate="never": SQLite (3.35+) drops these columns in place. Copying the tables
    # instead would DROP the old ones, and with foreign keys on, dropping ``deliveries``
    # deletes every row that references it (clicks, opens) by ON DELETE CASCADE.
    with op.batch_alter_table('deliveries', schema=None, recreate='never') as batch_op:
        batch_op.drop_index('ix_deliveries_issue_status_variant_id')
        batch_op.create_index(
            'ix_deliveries_issue_status_id', ['issue_id', 'status', 'id'], unique=False
        )
        batch_op.drop_column('variant')
    op.drop_table('issue_variants')
    with op.batch_alter_table('snippets', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('target_roles')
