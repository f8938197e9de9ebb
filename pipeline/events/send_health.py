"""The figures the circuit breaker reads from the events: who bounced or complained, per issue.

It lives on the events side because events match deliveries (events import delivery, never
the reverse); the wiring hands :func:`event_figures` to the send (``SendOptions``), and the
send store's ``health`` calls it.
"""

from __future__ import annotations

from sqlalchemy import and_, distinct, func, select
from sqlalchemy.orm import Session

from pipeline.delivery.breaker import EventFigures
from pipeline.delivery.models import Delivery
from pipeline.events.models import BounceKind, EventType, ProviderEvent


def event_figures(session: Session, issue_id: int) -> EventFigures:
    """Distinct deliveries of ``issue_id`` that hard-bounced, and that drew a complaint."""

    def affected(*conditions: object) -> int:
        query = (
            select(func.count(distinct(ProviderEvent.delivery_id)))
            .select_from(ProviderEvent)
            .join(Delivery, Delivery.id == ProviderEvent.delivery_id)
            .where(Delivery.issue_id == issue_id, and_(*conditions))  # type: ignore[arg-type]
        )
        return int(session.scalar(query) or 0)

    return EventFigures(
        hard_bounces=affected(
            ProviderEvent.type == EventType.BOUNCED, ProviderEvent.bounce_kind == BounceKind.HARD
        ),
        complaints=affected(ProviderEvent.type == EventType.COMPLAINED),
    )
