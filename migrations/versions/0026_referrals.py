"""referrals: a referral code per subscriber, referrals, milestones reached

Revision ID: 0026
Revises: 0030
Create Date: 2026-12-01 16:30:00

Every subscriber gets a random ``referral_code`` (existing rows too, generated here), under a
unique index. The signup queue carries the code a form came with,
and which milestone a ``milestone`` email announces. ``referrals`` holds one row per
referred reader (unique: a reader credits one referrer, once); ``referral_milestones`` one
row per (referrer, threshold), so each milestone email is queued once.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op


revision = "0026"
down_revision = "0030"
branch_labels = None
depends_on = None


def _backfill_codes() -> None:
    bind = op.get_bind()
    subscribers = sa.table("subscribers", sa.column("id", sa.Integer), sa.column("referral_code"))
    ids = [row[0] for row in bind.execute(sa.select(subscribers.c.id))]
    for start in range(0, len(ids), 1000):
        bind.execute(
            subscribers.update()
            .where(subscribers.c.id == sa.bindparam("sid"))
            .values(referral_code=sa.bindparam("code")),
            [{"sid": sid, "code": secrets.token_urlsafe(9)} for sid in ids[start : start + 1000]],
        )


def upgrade() -> None:
    with op.batch_alter_table("subscribers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("referral_code", sa.String(length=24), nullable=True))
    _backfill_codes()
    # A unique index, not a constraint: SQLite adds it without copying the table (a copy
    # would drop the old one, and its ON DELETE CASCADE would empty the tables below it).
    op.create_index(
        op.f("ix_subscribers_referral_code"), "subscribers", ["referral_code"], unique=True
    )
    with op.batch_alter_table("subscriber_mail_queue", schema=None) as batch_op:
        batch_op.add_column(sa.Column("referral_code", sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column("milestone_id", sa.Integer(), nullable=True))
    op.create_table(
        "referrals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referrer_id", sa.Integer(), nullable=False),
        sa.Column("referred_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("credited_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["referrer_id"],
            ["subscribers.id"],
            name=op.f("fk_referrals_referrer_id_subscribers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["referred_id"],
            ["subscribers.id"],
            name=op.f("fk_referrals_referred_id_subscribers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
        sa.UniqueConstraint("referred_id", name=op.f("uq_referrals_referred_id")),
    )
    op.create_index(
        "ix_referrals_referrer_credited", "referrals", ["referrer_id", "credited_at"], unique=False
    )
    op.create_table(
        "referral_milestones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referrer_id", sa.Integer(), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("reward", sa.String(length=200), nullable=False),
        sa.Column("reached_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["referrer_id"],
            ["subscribers.id"],
            name=op.f("fk_referral_milestones_referrer_id_subscribers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_milestones")),
        sa.UniqueConstraint(
            "referrer_id", "threshold", name="uq_referral_milestones_referrer_threshold"
        ),
    )


def downgrade() -> None:
    op.drop_table("referral_milestones")
    op.drop_index("ix_referrals_referrer_credited", table_name="referrals")
    op.drop_table("referrals")
    # In place (SQLite 3.35+ drops a column natively): a table copy would DROP subscribers
    # with foreign keys on, and SQLite would cascade to every row hanging on a subscriber.
    with op.batch_alter_table("subscriber_mail_queue", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("milestone_id")
        batch_op.drop_column("referral_code")
    op.drop_index(op.f("ix_subscribers_referral_code"), table_name="subscribers")
    with op.batch_alter_table("subscribers", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("referral_code")
