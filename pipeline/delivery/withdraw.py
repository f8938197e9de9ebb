"""Withdrawing a subscriber's unsent mail when they leave (the step ``subscribers`` is handed)."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from pipeline.delivery.models import Delivery, DeliveryStatus
from pulse_core.database import one_of

# The same words a claim writes when it finds the addressee gone.
LEFT = "subscriber left"


_CHUNK = 500  # ids per IN (…): well under every backend's parameter limit


def skip_pending_deliveries(session: Session, subscriber_ids: Collection[int]) -> int:
    """Mark these subscribers' pending deliveries skipped, so no batch claims them; how many.

    Only ``pending`` rows: a leased (``sending``) batch may already be with the provider,
    and its answer is recorded as usual.
    """
    ids = sorted(subscriber_ids)
    withdrawn = 0
    for start in range(0, len(ids), _CHUNK):
        result = session.execute(
            update(Delivery)
            .where(
                one_of(session, Delivery.subscriber_id, ids[start : start + _CHUNK]),
                Delivery.status == DeliveryStatus.PENDING,
            )
            .values(
                status=DeliveryStatus.SKIPPED, lease_until=None, not_before=None, last_error=LEFT
            )
        )
        assert isinstance(result, CursorResult)
        withdrawn += int(result.rowcount)
    return withdrawn
