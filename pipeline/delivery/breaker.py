"""The circuit breaker: pause a send whose bounce or complaint rate says something is wrong.

Rates are measured over this issue's messages the provider accepted, from the events the
webhooks recorded (``provider_events`` rows matched to this issue's deliveries). A minimum
number of sent messages keeps one early bounce from stopping a send.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, distinct, func, select
from sqlalchemy.orm import Session

from pipeline.delivery.models import Delivery, DeliveryStatus
from pipeline.events.models import BounceKind, EventType, ProviderEvent


@dataclass(frozen=True)
class BreakerThresholds:
    """When to pause: rates are fractions (0.05 = 5%)."""

    hard_bounce_rate: float = 0.05
    complaint_rate: float = 0.001
    min_sent: int = 100


@dataclass(frozen=True)
class SendHealth:
    sent: int
    hard_bounces: int
    complaints: int


def measure(session: Session, issue_id: int) -> SendHealth:
    """Messages sent so far and distinct deliveries that hard-bounced or drew a complaint."""
    sent = session.scalar(
        select(func.count())
        .select_from(Delivery)
        .where(Delivery.issue_id == issue_id, Delivery.status == DeliveryStatus.SENT)
    )

    def affected(*conditions: object) -> int:
        query = (
            select(func.count(distinct(ProviderEvent.delivery_id)))
            .select_from(ProviderEvent)
            .join(Delivery, Delivery.id == ProviderEvent.delivery_id)
            .where(Delivery.issue_id == issue_id, and_(*conditions))  # type: ignore[arg-type]
        )
        return int(session.scalar(query) or 0)

    return SendHealth(
        sent=int(sent or 0),
        hard_bounces=affected(
            ProviderEvent.type == EventType.BOUNCED, ProviderEvent.bounce_kind == BounceKind.HARD
        ),
        complaints=affected(ProviderEvent.type == EventType.COMPLAINED),
    )


def trip_reason(health: SendHealth, limits: BreakerThresholds) -> str | None:
    """Why the send must pause, or None while the rates are healthy."""
    if health.sent < limits.min_sent:
        return None
    bounce_rate = health.hard_bounces / health.sent
    if bounce_rate > limits.hard_bounce_rate:
        return (
            f"hard bounce rate {bounce_rate:.1%} ({health.hard_bounces} of {health.sent} sent) "
            f"is above {limits.hard_bounce_rate:.1%}; check the list's quality, then "
            "`pulse issue resume`"
        )
    complaint_rate = health.complaints / health.sent
    if complaint_rate > limits.complaint_rate:
        return (
            f"complaint rate {complaint_rate:.2%} ({health.complaints} of {health.sent} sent) "
            f"is above {limits.complaint_rate:.2%}; check the content and consent, then "
            "`pulse issue resume`"
        )
    return None
