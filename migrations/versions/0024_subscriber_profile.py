"""subscribers and the signup queue: a reader's profile (role, level, region, time zone)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-01 16:00:00

Four optional columns on ``subscribers``, and the same four on ``subscriber_mail_queue`` so a
web signup carries the profile its form gave until the background sender records it.
Existing rows get NULL everywhere: nobody has said anything yet, so every reader gets the
default issue at the list's own send time, as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

TABLES = ('subscribers', 'subscriber_mail_queue')


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('role', sa.String(length=30), nullable=True))
            batch_op.add_column(sa.Column('level', sa.String(length=20), nullable=True))
            batch_op.add_column(sa.Column('region', sa.String(length=2), nullable=True))
            batch_op.add_column(sa.Column('timezone', sa.String(length=64), nullable=True))


def downgrade() -> None:
    # recreate="never": SQLite (3.35+) drops the columns in place. Copying ``subscribers``
    # would DROP the old table, and with foreign keys on that deletes every delivery (and
    # the rest of each reader's history) by ON DELETE CASCADE.
    for table in TABLES:
        with op.batch_alter_table(table, schema=None, recreate='never') as batch_op:
            for column in ('timezone', 'region', 'level', 'role'):
                batch_op.drop_column(column)
