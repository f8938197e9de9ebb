"""Withdrawing a subscriber's unsent mail when they leave (the step ``subscribers`` is handed)."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from pipeline.delivery.models import Delivery, DeliveryStatus

# The same words a claim writes when it finds the addressee gone.
LEFT = "subscriber left"


def skip_pending_deliveries(session: Session, subscriber_id: int) -> int:
    """Mark the subscriber's pending deliveries skipped, so no batch claims them; returns how many.

    Only ``pending`` rows: a leased (``sending``) batch may already be with the provider,
    and its answer is recorded as usual.
    """
    result = session.execute(
        update(Delivery)
        .where(Delivery.subscriber_id == subscriber_id, Delivery.status == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.SKIPPED, lease_until=None, not_before=None, last_error=LEFT)
    )
    assert isinstance(result, CursorResult)
    return int(result.rowcount)
