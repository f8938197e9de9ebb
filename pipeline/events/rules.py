"""The policy's rules over a batch of stored events, in order: who leaves, what is suppressed.

Hard bounce → ``bounced`` and suppressed. Soft bounces → the same once there are
``soft_bounce_limit`` within ``soft_bounce_window_days``. Complaint → ``complained`` and
suppressed at once. Provider-side unsubscribe → ``unsubscribed`` and suppressed. Each
decision is the one applying the events one at a time would make — the soft-bounce count
of an event includes the batch's earlier events, never its later ones — but the batch
reads its subscribers, suppressions and soft-bounce history with a few queries and writes
through one :class:`subscribers.leaving.Departures`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import String, func, or_, select
from sqlalchemy.orm import Session

from pipeline.events.matching import IN_CHUNK, Match
from pipeline.events.models import BounceKind, EventType, ProviderEvent
from pipeline.events.normalised import NormalisedEvent
from pulse_core.database import one_of
from subscribers.addresses import email_key
from subscribers.leaving import Departures, LeaveReason
from subscribers.models import Subscriber

if TYPE_CHECKING:
    from pipeline.events.policy import EventPolicy

_CHUNK = IN_CHUNK  # keys per IN (…): see matching.IN_CHUNK
_ACTING = frozenset({EventType.BOUNCED, EventType.COMPLAINED, EventType.UNSUBSCRIBED})
Row = dict[str, object]


def _is_soft_bounce(row: Row) -> bool:
    return row["type"] is EventType.BOUNCED and row["bounce_kind"] is BounceKind.SOFT


def _recipient_key(row: Row) -> str | None:
    recipient = row["recipient"]
    return email_key(recipient) if isinstance(recipient, str) and recipient else None


class SoftBounceHistory:
    """Soft bounces stored before the batch (one query, made before it is stored) plus the
    batch's own, added as they come."""

    def __init__(self, session: Session, rows: Sequence[Row], policy: EventPolicy) -> None:
        self.window = policy.soft_bounce_window
        self.seen: list[tuple[int | None, str | None, datetime]] = []
        soft = [row for row in rows if _is_soft_bounce(row)]
        if not soft:
            return
        times = [_time(row) for row in soft]
        ids = sorted({sid for row in soft if isinstance(sid := row["subscriber_id"], int)})
        keys = sorted(
            {k for row in soft if row["subscriber_id"] is None for k in [_recipient_key(row)] if k}
        )
        lowered = func.lower(ProviderEvent.recipient, type_=String())
        for start in range(0, max(len(ids), len(keys)), _CHUNK):
            query = select(ProviderEvent.subscriber_id, lowered, ProviderEvent.occurred_at).where(
                ProviderEvent.type == EventType.BOUNCED,
                ProviderEvent.bounce_kind == BounceKind.SOFT,
                ProviderEvent.occurred_at > min(times) - self.window,
                ProviderEvent.occurred_at <= max(times),
                or_(
                    one_of(session, ProviderEvent.subscriber_id, ids[start : start + _CHUNK]),
                    one_of(session, lowered, keys[start : start + _CHUNK]),
                ),
            )
            self.seen.extend((sid, low, at) for sid, low, at in session.execute(query))

    def add(self, row: Row) -> None:
        recipient = row["recipient"]
        lowered = recipient.lower() if isinstance(recipient, str) else None
        subscriber_id = row["subscriber_id"]
        self.seen.append(
            (subscriber_id if isinstance(subscriber_id, int) else None, lowered, _time(row))
        )

    def count(self, row: Row) -> int:
        """Soft bounces for this subscriber (or address) in the window ending at this one."""
        until = _time(row)
        since = until - self.window
        subscriber_id, key = row["subscriber_id"], _recipient_key(row)
        if subscriber_id is None and key is None:
            return 0
        return sum(
            1
            for sid, lowered, at in self.seen
            if since < _aware(at) <= until
            and (sid == subscriber_id if subscriber_id is not None else lowered == key)
        )


def _time(row: Row) -> datetime:
    moment = row["occurred_at"]
    assert isinstance(moment, datetime)
    return _aware(moment)


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive UTC times.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def apply_rules(
    session: Session,
    events: Sequence[NormalisedEvent],
    matches: Sequence[Match],
    rows: Sequence[Row],
    policy: EventPolicy,
    soft_bounces: SoftBounceHistory,
) -> Counter[str]:
    """Apply the rules to a batch of just-stored events, in order; the list changes made."""
    changes: Counter[str] = Counter()
    if not any(event.type in _ACTING for event in events):
        return changes
    acting = {m.subscriber_id for e, m in zip(events, matches, strict=True) if e.type in _ACTING}
    people = _subscribers(session, acting)
    # Only the addresses a bounce, complaint or unsubscribe names can be suppressed.
    named = (row["recipient"] for e, row in zip(events, rows, strict=True) if e.type in _ACTING)
    addresses = [p.email for p in people.values()] + [r for r in named if isinstance(r, str) and r]
    departures = Departures(session, policy.leaving, addresses)
    for event, match, row in zip(events, matches, rows, strict=True):
        if _is_soft_bounce(row):
            soft_bounces.add(row)
        if event.type not in _ACTING or (event.needs_proof and not match.proven):
            continue
        outcome = _outcome(event, row, soft_bounces, policy)
        if outcome is None:
            continue
        reason, cause, detail = outcome
        subscriber = people.get(match.subscriber_id) if match.subscriber_id else None
        if subscriber is not None:
            departure = departures.leave(subscriber, reason, cause=cause, detail=detail)
            if departure.status_changed:
                changes[subscriber.status.value] += 1
            if departure.suppressed:
                changes["suppressed"] += 1
        # The address the report names, when it is not (or not only) a subscriber's.
        address = row["recipient"]
        if isinstance(address, str) and address and departures.suppress_address(address, reason):
            changes["suppressed"] += 1
    departures.finish()
    return changes


def _outcome(
    event: NormalisedEvent, row: Row, soft_bounces: SoftBounceHistory, policy: EventPolicy
) -> tuple[LeaveReason, str, str | None] | None:
    provider = event.provider
    detail = (event.detail or "")[:500] or None
    if event.type is EventType.BOUNCED and event.bounce_kind is BounceKind.HARD:
        return LeaveReason.BOUNCED, f"bounce:hard:{provider}", detail
    if event.type is EventType.BOUNCED:
        count = soft_bounces.count(row)
        if count < policy.soft_bounce_limit:
            return None
        days = policy.soft_bounce_window.days
        detail = f"{count} soft bounces within {days} days; last: {detail or 'no detail'}"
        return LeaveReason.BOUNCED, f"bounce:soft:{provider}", detail
    if event.type is EventType.COMPLAINED:
        return LeaveReason.COMPLAINED, f"complaint:{provider}", detail
    return LeaveReason.UNSUBSCRIBED, f"unsubscribe:{provider}", detail


def _subscribers(session: Session, ids: set[int | None]) -> dict[int, Subscriber]:
    wanted = sorted(i for i in ids if i is not None)
    found: dict[int, Subscriber] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        for subscriber in session.scalars(
            select(Subscriber).where(one_of(session, Subscriber.id, chunk))
        ):
            found[subscriber.id] = subscriber
    return found
