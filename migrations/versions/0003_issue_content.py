"""issue salary comparisons and stored view

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 22:17:44.072851
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('salary_comparisons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=60), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('first_column', sa.String(length=60), nullable=False),
    sa.Column('levels', sa.JSON(), nullable=False),
    sa.Column('columns', sa.JSON(), nullable=False),
    sa.Column('region', sa.String(length=100), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_salary_comparisons')),
    sa.UniqueConstraint('key', name=op.f('uq_salary_comparisons_key'))
    )
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.add_column(sa.Column('view_json', sa.Text(), nullable=True))




def downgrade() -> None:

    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.drop_column('view_json')

    op.drop_table('salary_comparisons')

