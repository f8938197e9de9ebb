"""What an event does to the list: the one place provider news changes a subscriber.

Events are applied in batches (dedupe, match, store with a few statements each; the rules
in :mod:`pipeline.events.rules`). Hard bounce → ``bounced`` and suppressed. Soft bounces →
the same once there are ``soft_bounce_limit`` within ``soft_bounce_window_days``. Complaint
→ ``complained`` and suppressed at once. Provider-side unsubscribe → ``unsubscribed`` and
suppressed. The subscriber leaves through :mod:`subscribers.leaving`, the one rule set
every path applies (history with the provider in the cause, suppression, no pause,
pending deliveries withdrawn), so a change made here during a send stops every later batch
from mailing them. An address we cannot tie to a subscriber is still suppressed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pipeline.delivery.withdraw import skip_pending_deliveries
from pipeline.events.matching import IN_CHUNK, NO_MATCH, Match, match_events
from pipeline.events.models import EventType, ProviderEvent
from pipeline.events.normalised import NormalisedEvent
from pipeline.events.rules import SoftBounceHistory, apply_rules
from pipeline.events.store import store_rows
from pulse_core.database import one_of, utcnow
from pulse_core.statistics import Statistics
from subscribers.leaving import LeavingRules

_CHUNK = IN_CHUNK  # keys per IN (…): see matching.IN_CHUNK


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


BATCH = 1000  # events applied together: a few statements per batch, not per event


def apply_event(session: Session, event: NormalisedEvent, policy: EventPolicy) -> IngestReport:
    """Store ``event`` once, link it, and apply the policy; a duplicate changes nothing."""
    return apply_events(session, [event], policy)


def apply_events(
    session: Session, events: Iterable[NormalisedEvent], policy: EventPolicy
) -> IngestReport:
    """Apply events in order, in the caller's transaction, :data:`BATCH` at a time.

    The outcome is the one applying them one by one would have (the policy tests run both
    ways); only the number of statements differs.
    """
    pending = list(events)
    report = IngestReport()
    statistics = Statistics(session)
    for start in range(0, len(pending), BATCH):
        statistics.refresh()
        batch = _apply_batch(session, pending[start : start + BATCH], policy)
        statistics.wrote("provider_events", batch.stored)
        report.add(batch)
    return report


def _apply_batch(
    session: Session, events: list[NormalisedEvent], policy: EventPolicy
) -> IngestReport:
    report = IngestReport()
    while True:
        fresh = _new_events(session, events)
        links = [
            _usable(event, match)
            for event, match in zip(fresh, match_events(session, fresh), strict=True)
        ]
        rows = [_row(event, match) for event, match in zip(fresh, links, strict=True)]
        history = SoftBounceHistory(session, rows, policy)
        try:
            # A savepoint: a twin request racing us on the unique key loses quietly (the
            # batch is looked at again without the events it stored first).
            with session.begin_nested():
                store_rows(session, rows)
            break
        except IntegrityError:
            continue
    report.duplicates += len(events) - len(fresh)
    report.stored += len(rows)
    for event, match in zip(fresh, links, strict=True):
        report.by_type[event.type.value] += 1
        if match.delivery_id is None:
            report.unmatched += 1
    report.changes.update(apply_rules(session, fresh, links, rows, policy, history))
    return report


def _new_events(session: Session, events: list[NormalisedEvent]) -> list[NormalisedEvent]:
    """The events not stored yet (providers retry whole batches), each once."""
    stored = stored_keys(session, events)
    fresh: list[NormalisedEvent] = []
    for event in events:
        key = (event.provider, event.event_key)
        if key not in stored:
            stored.add(key)
            fresh.append(event)
    return fresh


def stored_keys(session: Session, events: list[NormalisedEvent]) -> set[tuple[str, str]]:
    """Which (provider, event key) pairs are stored already: a few IN queries on the unique key."""
    found: set[tuple[str, str]] = set()
    for provider in {event.provider for event in events}:
        keys = sorted({e.event_key for e in events if e.provider == provider})
        for start in range(0, len(keys), _CHUNK):
            query = select(ProviderEvent.event_key).where(
                ProviderEvent.provider == provider,
                one_of(session, ProviderEvent.event_key, keys[start : start + _CHUNK]),
            )
            found.update((provider, key) for key in session.scalars(query))
    return found


def _usable(event: NormalisedEvent, match: Match) -> Match:
    if event.needs_proof and not match.proven:
        # A report nobody can tie to a message we sent: kept for the record, linked to
        # nobody (so it cannot count towards a later soft-bounce limit), changing nothing.
        return NO_MATCH
    return match


def _row(event: NormalisedEvent, match: Match) -> dict[str, object]:
    recipient = event.recipient or match.email
    if event.needs_proof and match.email is not None:
        # Proven reports act on the address we sent to, not a relay's rewrite of it.
        recipient = match.email
    return {
        "provider": event.provider,
        "event_key": event.event_key,
        "type": event.type,
        "bounce_kind": event.bounce_kind if event.type is EventType.BOUNCED else None,
        "recipient": recipient,
        "provider_message_id": (event.provider_message_id or "")[:200] or None,
        "delivery_id": match.delivery_id,
        "subscriber_id": match.subscriber_id,
        "occurred_at": event.occurred_at,
        "received_at": utcnow(),
        "raw": event.raw,
    }
