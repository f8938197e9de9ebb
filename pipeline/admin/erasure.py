"""Forgetting a subscriber on request: personal data goes, the suppression stays.

The address is added to the suppression list as a keyed hash first, so a later import of
the same address is still refused, then the subscriber row (with its history and delivery
rows, by cascade) is deleted and provider events lose the address and raw payload.
"""

from __future__ import annotations

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from pipeline.errors import NotFoundError
from pipeline.events.models import ProviderEvent
from subscribers.addresses import email_key
from subscribers.history import change_status
from subscribers.models import Subscriber, SubscriberStatus
from subscribers.suppression import SuppressionReason, suppress

ERASED_PAYLOAD = '{"erased": true}'


def get_subscriber(session: Session, subscriber_id: int) -> Subscriber:
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None:
        raise NotFoundError(f"no subscriber {subscriber_id}")
    return subscriber


def unsubscribe_by_admin(session: Session, subscriber: Subscriber, key: str, by: str) -> bool:
    """Unsubscribe on the person's request, recorded as an admin change; suppress the address."""
    changed = change_status(
        session, subscriber, SubscriberStatus.UNSUBSCRIBED, cause="admin", detail=f"by {by}"
    )
    suppress(session, subscriber.email, SuppressionReason.UNSUBSCRIBED, key)
    return changed


def forget_subscriber(session: Session, subscriber: Subscriber, key: str) -> None:
    """Erase the subscriber's personal data, keeping only the keyed-hash suppression."""
    suppress(session, subscriber.email, SuppressionReason.ERASED, key)
    session.execute(
        update(ProviderEvent)
        .where(
            or_(
                ProviderEvent.subscriber_id == subscriber.id,
                ProviderEvent.recipient == subscriber.email,
                ProviderEvent.recipient == email_key(subscriber.email),
            )
        )
        .values(recipient=None, subscriber_id=None, raw=ERASED_PAYLOAD)
    )
    session.delete(subscriber)
    session.flush()
