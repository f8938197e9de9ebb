"""Webhook tokens already accepted, so a captured request cannot be replayed (Mailgun)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from pulse_core.database import Base, UTCDateTime, utcnow


class SeenWebhookToken(Base):
    """One token a provider signed, recorded when its request was accepted."""

    __tablename__ = "webhook_tokens"
    __table_args__ = (
        UniqueConstraint("provider", "token", name="uq_webhook_tokens_provider_token"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    token: Mapped[str] = mapped_column(String(200))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


def token_seen(session: Session, provider: str, token: str) -> bool:
    """Whether ``token`` was accepted before."""
    query = select(SeenWebhookToken.id).where(
        SeenWebhookToken.provider == provider, SeenWebhookToken.token == token
    )
    return session.scalar(query) is not None


def remember_token(session: Session, provider: str, token: str) -> bool:
    """Record ``token`` in the caller's transaction; False if it was already there.

    The check-then-insert can race with a twin request; the unique key decides, inside a
    savepoint so the loser's transaction stays usable.
    """
    if token_seen(session, provider, token):
        return False
    try:
        with session.begin_nested():
            session.add(SeenWebhookToken(provider=provider, token=token, seen_at=utcnow()))
    except IntegrityError:
        return False
    return True


def forget_tokens_before(session: Session, provider: str, cutoff: datetime) -> None:
    """Tokens older than the timestamp tolerance can no longer verify; keep the table small."""
    session.execute(
        delete(SeenWebhookToken).where(
            SeenWebhookToken.provider == provider, SeenWebhookToken.seen_at < cutoff
        )
    )
