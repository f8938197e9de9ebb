"""Which rendered variant each delivery gets: set once, in a few set-based updates.

When a send creates its delivery rows, each new row is matched to the issue's stored
variants (pipeline/issues/variants.py) by its reader's profile: one UPDATE per variant, in
rank order (most specific first), touching only rows no earlier variant took. Rows no
variant takes keep ``variant`` NULL: the default issue. The send then reads the variant off
the row it claims, never the reader's profile, so a profile changed after this point
changes nothing for this issue; a row made later (a resumed send adding new readers) is
matched when it is made; rows made before keep what they had.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from pipeline.delivery.models import Delivery, DeliveryStatus
from pipeline.issues.models import IssueVariant
from subscribers.models import Subscriber


def assign_variants(session: Session, issue_id: int, made_since: datetime) -> None:
    """Set ``deliveries.variant`` on the issue's rows made since ``made_since`` (this call's)."""
    variants = session.execute(
        select(IssueVariant.key, IssueVariant.level, IssueVariant.region, IssueVariant.role)
        .where(IssueVariant.issue_id == issue_id)
        .order_by(IssueVariant.rank)
    ).all()
    for key, level, region, role in variants:
        wanted: list[ColumnElement[bool]] = []
        if level is not None:
            wanted.append(Subscriber.level == level)
        if region is not None:
            wanted.append(Subscriber.region == region)
        if role is not None:
            wanted.append(Subscriber.role == role)
        session.execute(
            update(Delivery)
            .where(
                Delivery.issue_id == issue_id,
                Delivery.variant.is_(None),
                Delivery.created_at >= made_since,
                Delivery.status == DeliveryStatus.PENDING,
                Delivery.attempts == 0,
                Delivery.subscriber_id.in_(select(Subscriber.id).where(*wanted)),
            )
            .values(variant=key)
        )
