"""Erasure of what provider events keep about a person (wired into subscriber erasure)."""

from __future__ import annotations

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from pipeline.events.models import ProviderEvent
from subscribers.addresses import email_key

ERASED_PAYLOAD = '{"erased": true}'


def scrub_provider_events(session: Session, subscriber_id: int, email: str) -> None:
    """Drop the address and raw payload from the person's events; counts stay."""
    session.execute(
        update(ProviderEvent)
        .where(
            or_(
                ProviderEvent.subscriber_id == subscriber_id,
                ProviderEvent.recipient == email,
                ProviderEvent.recipient == email_key(email),
            )
        )
        .values(recipient=None, raw=ERASED_PAYLOAD)
    )
