"""What an event does to the list: the one place provider news changes a subscriber.

Hard bounce → ``bounced`` and suppressed. Soft bounces → the same once there are
``soft_bounce_limit`` within ``soft_bounce_window_days``. Complaint → ``complained`` and
suppressed at once. Provider-side unsubscribe → ``unsubscribed`` and suppressed. The
subscriber leaves through :func:`subscribers.leaving.leave`, the one rule set every path
applies (history with the provider in the cause, suppression, no pause, pending deliveries
withdrawn), so a change made here during a send stops every later batch from mailing them.
An address we cannot tie to a subscriber is still suppressed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pipeline.delivery.withdraw import skip_pending_deliveries
from pipeline.events.matching import Match, match_event
from pipeline.events.models import BounceKind, EventType, ProviderEvent
from pipeline.events.normalised import NormalisedEvent
from pulse_core.database import utcnow
from subscribers.addresses import email_key
from subscribers.leaving import LeaveReason, LeavingRules, leave, suppress_leaving_address
from subscribers.models import Subscriber


@dataclass(frozen=True)
class EventPolicy:
    """The configurable rules, plus the key new suppressions are hashed under.

    Built from the settings by :func:`pipeline.wiring.event_policy`. ``retired_keys`` still
    recognise addresses suppressed before a key rotation.
    """

    suppression_key: str
    soft_bounce_limit: int = 3
    soft_bounce_window: timedelta = timedelta(days=30)
    retired_keys: tuple[str, ...] = ()

    @property
    def hash_keys(self) -> tuple[str, ...]:
        """Every suppression key, newest first."""
        return (self.suppression_key, *self.retired_keys)

    @property
    def leaving(self) -> LeavingRules:
        """How a subscriber named by an event leaves (see :mod:`subscribers.leaving`)."""
        return LeavingRules(self.hash_keys, skip_pending_deliveries)


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
    if event.type is EventType.BOUNCED and event.bounce_kind is BounceKind.HARD:
        outcome = (LeaveReason.BOUNCED, f"bounce:hard:{provider}")
    elif event.type is EventType.BOUNCED:
        count = _soft_bounces(session, row, policy)
        if count < policy.soft_bounce_limit:
            return changes
        days = policy.soft_bounce_window.days
        detail = f"{count} soft bounces within {days} days; last: {detail or 'no detail'}"
        outcome = (LeaveReason.BOUNCED, f"bounce:soft:{provider}")
    elif event.type is EventType.COMPLAINED:
        outcome = (LeaveReason.COMPLAINED, f"complaint:{provider}")
    elif event.type is EventType.UNSUBSCRIBED:
        outcome = (LeaveReason.UNSUBSCRIBED, f"unsubscribe:{provider}")
    else:
        return changes
    reason, cause = outcome
    if subscriber is not None:
        departure = leave(
            session, subscriber, reason, cause=cause, detail=detail, rules=policy.leaving
        )
        if departure.status_changed:
            changes[subscriber.status.value] += 1
        if departure.suppressed:
            changes["suppressed"] += 1
    # The address the report names, when it is not (or not only) a subscriber's.
    if address and suppress_leaving_address(session, address, reason, policy.leaving):
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
