"""The suppression list: addresses that must never be mailed again unless they re-confirm.

Entries are keyed hashes of the address (HMAC-SHA256 of its case-folded form), so the list
can outlive erasure of the subscriber's personal data without keeping the address itself.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Integer, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from pulse_core.database import Base, UTCDateTime, utcnow
from subscribers.addresses import email_key
from subscribers.models import status_enum


class SuppressionReason(enum.StrEnum):
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"
    ERASED = "erased"
    MANUAL = "manual"


class Suppression(Base):
    """A suppressed address, stored only as a keyed hash."""

    __tablename__ = "suppressions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email_hash: Mapped[str] = mapped_column(String(64), unique=True)
    reason: Mapped[SuppressionReason] = mapped_column(
        status_enum(SuppressionReason, "suppression_reason")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def suppression_keys(secret_keys: Sequence[str]) -> list[str]:
    """Hash keys derived from the signing keys, newest first (old ones still match).

    A derived key rather than the signing key itself, so the suppression table never
    holds anything computed directly with the key that signs links.
    """
    return [
        hmac.new(key.encode(), b"pulse.suppression", hashlib.sha256).hexdigest()
        for key in secret_keys
    ]


def address_hash(email: str, key: str) -> str:
    """The keyed hash under which ``email`` is suppressed."""
    return hmac.new(key.encode(), email_key(email).encode(), hashlib.sha256).hexdigest()


def suppress(session: Session, email: str, reason: SuppressionReason, key: str) -> None:
    """Add ``email`` to the list (no-op when already there)."""
    row = new_suppression(email, reason, key)
    if (
        session.scalar(select(Suppression.id).where(Suppression.email_hash == row.email_hash))
        is None
    ):
        session.add(row)
        session.flush()


def new_suppression(email: str, reason: SuppressionReason, key: str) -> Suppression:
    """The row suppressing ``email``, for a caller that checked it is not there yet."""
    return Suppression(email_hash=address_hash(email, key), reason=reason, created_at=utcnow())


def is_suppressed(session: Session, email: str, keys: Sequence[str]) -> bool:
    """Whether ``email`` is suppressed under the current key or any retired one."""
    digests = [address_hash(email, key) for key in keys]
    found = session.scalar(select(Suppression.id).where(Suppression.email_hash.in_(digests)))
    return found is not None


def suppressed_among(session: Session, emails: Sequence[str], keys: Sequence[str]) -> set[str]:
    """Which of ``emails`` are suppressed, in one query (for imports)."""
    by_digest = {address_hash(email, key): email for email in emails for key in keys}
    if not by_digest:
        return set()
    found = session.scalars(
        select(Suppression.email_hash).where(Suppression.email_hash.in_(by_digest))
    )
    return {by_digest[digest] for digest in found}


def lift(session: Session, email: str, keys: Sequence[str]) -> None:
    """Remove ``email`` from the list: only after the person confirmed again."""
    digests = [address_hash(email, key) for key in keys]
    session.execute(delete(Suppression).where(Suppression.email_hash.in_(digests)))


def suppression_reason_of(
    session: Session, email: str, keys: Sequence[str]
) -> SuppressionReason | None:
    """Why ``email`` is suppressed (under any key), or None when it is not."""
    digests = [address_hash(email, key) for key in keys]
    return session.scalar(
        select(Suppression.reason).where(Suppression.email_hash.in_(digests)).limit(1)
    )
