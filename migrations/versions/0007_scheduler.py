"""scheduler milestones and send locks

Revision ID: 0007
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0007'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('issue_milestones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('week_key', sa.String(length=8), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issue_milestones')),
    sa.UniqueConstraint('week_key', 'kind', name='uq_issue_milestones_week_kind')
    )
    op.create_table('send_locks',
    sa.Column('issue_id', sa.Integer(), nullable=False),
    sa.Column('owner', sa.String(length=200), nullable=False),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['issue_id'], ['issues.id'], name=op.f('fk_send_locks_issue_id_issues'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('issue_id', name=op.f('pk_send_locks'))
    )



def downgrade() -> None:
    
    op.drop_table('send_locks')
    op.drop_table('issue_milestones')

