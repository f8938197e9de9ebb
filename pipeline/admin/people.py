"""Looking up the subscriber a desk page is about."""

from __future__ import annotations

from sqlalchemy.orm import Session

from pipeline.errors import NotFoundError
from subscribers.models import Subscriber


def get_subscriber(session: Session, subscriber_id: int) -> Subscriber:
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None:
        raise NotFoundError(f"no subscriber {subscriber_id}")
    return subscriber
