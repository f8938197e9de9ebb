"""deliveries without foreign keys to issues and subscribers: linear, cheap row creation

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-01 20:00:00

PostgreSQL checks a foreign key with a query per inserted row (and the subscriber check
locks every reader's row): creating a million-reader send's rows took 47 s, 27 of them in
the two checks. The rows are made only from ``subscribers`` in one INSERT … SELECT while
the issue's row is locked (pipeline/delivery/outbox.py), so the checks never found anything.

On PostgreSQL dropping a constraint is a catalogue change, instant on a populated table.
SQLite copies the table (with foreign keys off for the migration, see migrations/env.py, so
the copy cascades to nothing). The downgrade first deletes any row whose issue or reader
is gone, as the cascade would have, then puts the constraints back.
"""

from __future__ import annotations

from alembic import op


revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None

CONSTRAINTS = (
    ('fk_deliveries_issue_id_issues', 'issues', 'issue_id'),
    ('fk_deliveries_subscriber_id_subscribers', 'subscribers', 'subscriber_id'),
)


def upgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        for name, _table, _column in CONSTRAINTS:
            batch_op.drop_constraint(name, type_='foreignkey')


def downgrade() -> None:
    for _name, table, column in CONSTRAINTS:
        op.execute(
            f'DELETE FROM deliveries WHERE NOT EXISTS '
            f'(SELECT 1 FROM {table} WHERE {table}.id = deliveries.{column})'
        )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        for name, table, column in CONSTRAINTS:
            batch_op.create_foreign_key(name, table, [column], ['id'], ondelete='CASCADE')
