"""Adding and listing subscribers from the operator's side."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pulse_core.database import utcnow
from pulse_core.errors import ValidationError
from subscribers.addresses import email_key, normalise_email
from subscribers.fields import MAX_NAME_LENGTH, clean_first_name
from subscribers.history import record_joined
from subscribers.importer import (
    ImportRejected,
    ImportSummary,
    LineError,
    NewSubscriber,
    import_subscribers,
    read_subscriber_csv,
)
from subscribers.models import Subscriber, SubscriberStatus
from subscribers.profile import NO_PROFILE, Profile
from subscribers.suppression import is_suppressed

__all__ = [
    "MAX_NAME_LENGTH",
    "ImportRejected",
    "ImportSummary",
    "LineError",
    "NewSubscriber",
    "SuppressedAddress",
    "add_subscriber",
    "clean_first_name",
    "count_by_status",
    "import_subscribers",
    "list_subscribers",
    "read_subscriber_csv",
]


class SuppressedAddress(ValidationError):
    """The address left (or was erased) and may only come back by confirming again."""


def add_subscriber(
    session: Session,
    email: str,
    *,
    first_name: str | None = None,
    consent_text: str,
    consent_source: str,
    status: SubscriberStatus = SubscriberStatus.ACTIVE,
    hash_keys: Sequence[str] = (),
    profile: Profile = NO_PROFILE,
) -> tuple[Subscriber, bool]:
    """Add one subscriber; returns the row and whether it was new.

    A suppressed address is refused as ``active``: only its owner's confirmation
    (``status=pending`` plus a confirmation email) can bring it back. The operator's
    ``profile`` fields are set on a known address too (only those given).
    """
    if not consent_text.strip():
        raise ValidationError("consent", "a consent text is required")
    address = normalise_email(email)
    name = clean_first_name(first_name)
    existing = session.scalar(select(Subscriber).where(Subscriber.email_key == email_key(address)))
    if existing is not None:
        for field_name, value in profile.as_dict().items():
            if value is not None:
                setattr(existing, field_name, value)
        return existing, False
    if status is SubscriberStatus.ACTIVE and is_suppressed(session, address, hash_keys):
        raise SuppressedAddress(
            "email",
            f"{address} is on the suppression list (it unsubscribed, bounced, complained or "
            "was erased); use --require-confirmation to ask its owner to confirm",
        )
    now = utcnow()
    subscriber = Subscriber(
        email=address,
        email_key=email_key(address),
        first_name=name,
        status=status,
        created_at=now,
        updated_at=now,
        confirmed_at=now if status is SubscriberStatus.ACTIVE else None,
        consent_text=consent_text,
        consent_at=now,
        consent_source=consent_source,
        **profile.as_dict(),
    )
    session.add(subscriber)
    session.flush()
    record_joined(session, subscriber, cause="admin", detail=consent_source)
    return subscriber, True


def list_subscribers(
    session: Session, *, status: SubscriberStatus | None = None, limit: int = 100
) -> list[Subscriber]:
    """Subscribers, newest first."""
    query = select(Subscriber).order_by(Subscriber.id.desc()).limit(limit)
    if status is not None:
        query = query.where(Subscriber.status == status)
    return list(session.scalars(query))


def count_by_status(session: Session) -> dict[SubscriberStatus, int]:
    """How many subscribers are in each status."""
    rows = session.execute(
        select(Subscriber.status, func.count()).group_by(Subscriber.status)
    ).all()
    return {status: count for status, count in rows}
