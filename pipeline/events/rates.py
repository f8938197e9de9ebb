"""Bounce and complaint rates of one issue's send, for the send engine's circuit breaker."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from pipeline.delivery.models import Delivery, DeliveryStatus
from pipeline.events.models import BounceKind, EventType, ProviderEvent


@dataclass(frozen=True)
class SendRates:
    """Counts over the issue's sent deliveries; rates are fractions of ``sent``."""

    sent: int
    hard_bounces: int
    complaints: int

    @property
    def bounce_rate(self) -> float:
        return self.hard_bounces / self.sent if self.sent else 0.0

    @property
    def complaint_rate(self) -> float:
        return self.complaints / self.sent if self.sent else 0.0


def send_rates(session: Session, issue_id: int) -> SendRates:
    """Deliveries with at least one hard bounce / complaint event, over those sent so far."""
    sent = session.scalar(
        select(func.count())
        .select_from(Delivery)
        .where(Delivery.issue_id == issue_id, Delivery.status == DeliveryStatus.SENT)
    )

    def deliveries_with(*conditions: ColumnElement[bool]) -> int:
        query = (
            select(func.count(func.distinct(ProviderEvent.delivery_id)))
            .join(Delivery, Delivery.id == ProviderEvent.delivery_id)
            .where(Delivery.issue_id == issue_id, and_(*conditions))
        )
        return int(session.scalar(query) or 0)

    return SendRates(
        sent=int(sent or 0),
        hard_bounces=deliveries_with(
            ProviderEvent.type == EventType.BOUNCED, ProviderEvent.bounce_kind == BounceKind.HARD
        ),
        complaints=deliveries_with(ProviderEvent.type == EventType.COMPLAINED),
    )
