"""Linking an event back to the delivery row and subscriber it is about.

Message ids come first. An event can arrive before its delivery row records the provider's
message id: the provider answers the send call, fires a webhook at once, and our
``record_results`` commit may land a moment later (or never, after a crash). Such an event
matches no row by id, so it falls back to the recipient's newest delivery that has no
message id yet — the one in flight. For authenticated webhooks the policy never depends on
this link: it acts on the subscriber found through the recipient address, so a bounce is
honoured either way. Mailbox reports (``needs_proof``) are different: anyone can send them,
so they act only on a *proven* match — the delivery our signed VERP token names, or a
delivery recorded under the report's Message-ID for that very recipient.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.delivery.models import Delivery
from pipeline.events.normalised import NormalisedEvent
from subscribers.addresses import email_key
from subscribers.models import Subscriber

# A provider may share one message id across a batch (SendGrid's X-Message-Id); this
# bounds how many rows we compare recipients against.
_SHARED_ID_LIMIT = 1000


@dataclass(frozen=True)
class Match:
    """What an event was linked to; either part may be missing."""

    delivery: Delivery | None
    subscriber: Subscriber | None
    # The event names a message we sent to this subscriber (VERP token, or Message-ID and
    # recipient), not just an address that happens to be on the list.
    proven: bool = False


def message_id_forms(message_id: str) -> list[str]:
    """The id as given, bare and bracketed: providers disagree about ``<…>``."""
    bare = message_id.strip().strip("<>")
    return list(dict.fromkeys([message_id, bare, f"<{bare}>"]))


def match_event(session: Session, event: NormalisedEvent) -> Match:
    """The delivery and subscriber ``event`` is about, as far as they can be known."""
    wanted = email_key(event.recipient) if event.recipient else None
    if event.delivery_id is not None:
        by_token = session.get(Delivery, event.delivery_id)
        if by_token is not None:
            return Match(by_token, session.get(Subscriber, by_token.subscriber_id), proven=True)
    if event.provider_message_id:
        rows = session.execute(
            select(Delivery, Subscriber)
            .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
            .where(Delivery.provider_message_id.in_(message_id_forms(event.provider_message_id)))
            .order_by(Delivery.id.desc())
            .limit(_SHARED_ID_LIMIT)
        ).all()
        for delivery, subscriber in rows:
            if wanted is None or subscriber.email_key == wanted:
                return Match(delivery, subscriber, proven=wanted is not None)
    found = _subscriber(session, event, wanted)
    if found is None:
        return Match(None, None)
    # Not (yet) recorded under this id: the newest delivery still waiting for its id.
    query = select(Delivery).where(Delivery.subscriber_id == found.id)
    if event.provider_message_id:
        query = query.where(Delivery.provider_message_id.is_(None))
    pending = session.scalar(query.order_by(Delivery.id.desc()).limit(1))
    return Match(pending, found)


def _subscriber(session: Session, event: NormalisedEvent, wanted: str | None) -> Subscriber | None:
    if event.subscriber_id is not None:
        return session.get(Subscriber, event.subscriber_id)
    if wanted is None:
        return None
    return session.scalar(select(Subscriber).where(Subscriber.email_key == wanted))
