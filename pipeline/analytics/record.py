"""Recording a click or an open: store the facts, then reclassify the delivery's engagements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from pipeline.analytics.classify import Fact, classify
from pipeline.analytics.models import Engagement, EngagementKind
from pipeline.analytics.privacy import agent_family, network_of
from pipeline.analytics.tokens import OPEN, ClickTarget
from pipeline.delivery.models import Delivery
from pipeline.issues.links import TrackedLink
from pulse_core.database import utcnow
from subscribers.models import Subscriber


@dataclass(frozen=True)
class RequestFacts:
    """The parts of an HTTP request classification reads; nothing else is kept."""

    method: str
    user_agent: str | None
    address: str | None
    prefetch: bool = False
    at: datetime | None = None


def is_prefetch(headers: dict[str, str]) -> bool:
    """Browsers and proxies announce speculative fetches (Fetch spec ``Sec-Purpose``)."""
    for name in ("sec-purpose", "purpose", "x-purpose", "x-moz"):
        if "prefetch" in headers.get(name, "").lower() or "preview" in headers.get(name, ""):
            return True
    return False


def record(
    session: Session,
    target: ClickTarget,
    links: tuple[TrackedLink, ...],
    request: RequestFacts,
) -> Engagement | None:
    """Store one click or open of the issue whose ``links`` are given, then reclassify.

    Returns the stored engagement, or None when nothing was recorded (the delivery is gone,
    belongs to another issue, or its subscriber turned tracking off since).
    """
    row = session.execute(
        select(Delivery.issue_id, Delivery.subscriber_id, Delivery.sent_at, Subscriber.track_clicks)
        .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .where(Delivery.id == target.delivery_id)
    ).first()
    if row is None or row.issue_id != target.issue_id or not row.track_clicks:
        return None
    engagement = Engagement(
        kind=EngagementKind.OPEN if target.position == OPEN else EngagementKind.CLICK,
        issue_id=target.issue_id,
        delivery_id=target.delivery_id,
        subscriber_id=row.subscriber_id,
        position=None if target.position == OPEN else target.position,
        at=request.at or utcnow(),
        method=request.method.upper()[:8],
        prefetch=request.prefetch,
        network=network_of(request.address),
        agent=agent_family(request.user_agent, request.address),
        machine=False,
        reasons="",
    )
    session.add(engagement)
    session.flush()
    decoys = frozenset(link.position for link in links if link.decoy)
    reclassify(session, target.delivery_id, row.sent_at, decoys)
    return engagement


def reclassify(
    session: Session, delivery_id: int, sent_at: datetime | None, decoys: frozenset[int]
) -> None:
    """Apply the rules to every engagement of one delivery, updating verdicts that changed."""
    rows = list(
        session.scalars(
            select(Engagement).where(Engagement.delivery_id == delivery_id).order_by(Engagement.id)
        )
    )
    facts = [
        Fact(
            at=r.at,
            method=r.method,
            prefetch=r.prefetch,
            agent=r.agent,
            position=r.position,
            decoy=r.position is not None and r.position in decoys,
        )
        for r in rows
    ]
    for engagement, reasons in zip(rows, classify(facts, sent_at), strict=True):
        text = ",".join(reasons)
        if engagement.reasons != text or engagement.machine != bool(reasons):
            engagement.machine = bool(reasons)
            engagement.reasons = text
    session.flush()


def erase_engagements(session: Session, subscriber_id: int, email: str) -> None:
    """Erasure hook: the person's clicks and opens go with them (counts drop too)."""
    session.execute(delete(Engagement).where(Engagement.subscriber_id == subscriber_id))
