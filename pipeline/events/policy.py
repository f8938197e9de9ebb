"""What an event does to the list: the one place provider news changes a subscriber.

Hard bounce → ``bounced`` and suppressed. Soft bounces → the same once there are
``soft_bounce_limit`` within ``soft_bounce_window_days``. Complaint → ``complained`` and
suppressed at once. Provider-side unsubscribe → ``unsubscribed`` and suppressed. Every
change goes through :func:`subscribers.history.change_status` with the provider in the cause.
The send engine skips non-active subscribers when it claims a batch, so a change made here
during a send stops every later batch from mailing the address.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pipeline.events.matching import Match, match_event
from pipeline.events.models import BounceKind, EventType, ProviderEvent
from pipeline.events.normalised import NormalisedEvent
from pulse_core.database import utcnow
from subscribers.addresses import email_key
from subscribers.history import change_status
from subscribers.models import Subscriber, SubscriberStatus
from subscribers.suppression import SuppressionReason, is_suppressed, suppress

# Only people still on the list are moved; someone who already left keeps their status
# (and their address is still suppressed below).
_ON_THE_LIST = (SubscriberStatus.ACTIVE, SubscriberStatus.PENDING)


@dataclass(frozen=True)
class EventPolicy:
    """The configurable rules, plus the key new suppressions are hashed under.

    Built from the settings by :func:`pipeline.wiring.event_policy`.
    """

    suppression_key: str
    soft_bounce_limit: int = 3
    soft_bounce_window: timedelta = timedelta(days=30)


@dataclass
class IngestReport:
    """What a batch of events did: stored, duplicates, and the list changes made."""

    stored: int = 0
    duplicates: int = 0
    unmatched: int = 0
    by_type: Counter[str] = field(default_factory=Counter)
    changes: Counter[str] = field(default_factory=Counter)

    def add(self, other: IngestReport) -> None:
        self.stored += other.stored
        self.duplicates += other.duplicates
        self.unmatched += other.unmatched
        self.by_type.update(other.by_type)
        self.changes.update(other.changes)

    def as_dict(self) -> dict[str, object]:
        return {
            "stored": self.stored,
            "duplicates": self.duplicates,
            "unmatched": self.unmatched,
            "types": dict(self.by_type),
            "changes": dict(self.changes),
        }


def apply_event(session: Session, event: NormalisedEvent, policy: EventPolicy) -> IngestReport:
    """Store ``event`` once, link it, and apply the policy; a duplicate changes nothing."""
    report = IngestReport()
    if _already_stored(session, event):
        report.duplicates += 1
        return report
    match = match_event(session, event)
    subscriber = match.subscriber
    unproven = event.needs_proof and not match.proven
    if unproven:
        # A report nobody can tie to a message we sent: kept for the record, linked to
        # nobody (so it cannot count towards a later soft-bounce limit), changing nothing.
        match, subscriber = Match(None, None), None
    row = ProviderEvent(
        provider=event.provider,
        event_key=event.event_key,
        type=event.type,
        bounce_kind=event.bounce_kind if event.type is EventType.BOUNCED else None,
        recipient=event.recipient or (subscriber.email if subscriber else None),
        provider_message_id=(event.provider_message_id or "")[:200] or None,
        delivery_id=match.delivery.id if match.delivery else None,
        subscriber_id=subscriber.id if subscriber else None,
        occurred_at=event.occurred_at,
        received_at=utcnow(),
        raw=event.raw,
    )
    try:
        # A savepoint: a twin request racing us on the unique key loses quietly.
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        report.duplicates += 1
        return report
    report.stored += 1
    report.by_type[event.type.value] += 1
    if match.delivery is None:
        report.unmatched += 1
    if unproven:
        return report
    if event.needs_proof and subscriber is not None:
        # Proven reports act on the address we sent to, not a relay's rewrite of it.
        row.recipient = subscriber.email
    report.changes.update(_apply_rules(session, row, event, subscriber, policy))
    return report


def _already_stored(session: Session, event: NormalisedEvent) -> bool:
    query = select(ProviderEvent.id).where(
        ProviderEvent.provider == event.provider, ProviderEvent.event_key == event.event_key
    )
    return session.scalar(query) is not None


def _apply_rules(
    session: Session,
    row: ProviderEvent,
    event: NormalisedEvent,
    subscriber: Subscriber | None,
    policy: EventPolicy,
) -> Counter[str]:
    changes: Counter[str] = Counter()
    address = row.recipient
    provider = event.provider
    detail = (event.detail or "")[:500] or None
    bounced = (SubscriberStatus.BOUNCED, SuppressionReason.BOUNCED)
    if event.type is EventType.BOUNCED and event.bounce_kind is BounceKind.HARD:
        outcome = (*bounced, f"bounce:hard:{provider}")
    elif event.type is EventType.BOUNCED:
        count = _soft_bounces(session, row, policy)
        if count < policy.soft_bounce_limit:
            return changes
        days = policy.soft_bounce_window.days
        detail = f"{count} soft bounces within {days} days; last: {detail or 'no detail'}"
        outcome = (*bounced, f"bounce:soft:{provider}")
    elif event.type is EventType.COMPLAINED:
        outcome = (
            SubscriberStatus.COMPLAINED,
            SuppressionReason.COMPLAINED,
            f"complaint:{provider}",
        )
    elif event.type is EventType.UNSUBSCRIBED:
        outcome = (
            SubscriberStatus.UNSUBSCRIBED,
            SuppressionReason.UNSUBSCRIBED,
            f"unsubscribe:{provider}",
        )
    else:
        return changes
    status, reason, cause = outcome
    if (
        subscriber is not None
        and subscriber.status in _ON_THE_LIST
        and change_status(session, subscriber, status, cause=cause, detail=detail)
    ):
        changes[status.value] += 1
    if address and not is_suppressed(session, address, [policy.suppression_key]):
        suppress(session, address, reason, policy.suppression_key)
        changes["suppressed"] += 1
    return changes


def _soft_bounces(session: Session, row: ProviderEvent, policy: EventPolicy) -> int:
    """Soft bounces for this subscriber (or address) in the window ending at this one."""
    since = row.occurred_at - policy.soft_bounce_window
    query = select(func.count()).where(
        ProviderEvent.type == EventType.BOUNCED,
        ProviderEvent.bounce_kind == BounceKind.SOFT,
        ProviderEvent.occurred_at > since,
        ProviderEvent.occurred_at <= row.occurred_at,
    )
    if row.subscriber_id is not None:
        query = query.where(ProviderEvent.subscriber_id == row.subscriber_id)
    elif row.recipient:
        query = query.where(func.lower(ProviderEvent.recipient) == email_key(row.recipient))
    else:
        return 0
    return int(session.scalar(query) or 0)
