"""Seeding a large populated database in seconds: readers, one issue, a sent delivery each.

Set-based (``INSERT … SELECT generate_series`` on PostgreSQL, chunked multi-row inserts on
SQLite) so a million deliveries take seconds, not the minutes the send path would. Each
delivery gets the SendGrid-style message id ``sgmsg<subscriber id>``, as if the issue had
been sent. Shared by ``bench/events.py`` and the plan tests.
"""

from __future__ import annotations

from sqlalchemy import Integer, cast, func, insert, literal, select, text
from sqlalchemy.orm import Session

from pipeline.delivery.models import Delivery, DeliveryStatus
from pipeline.events.models import EventType, ProviderEvent
from pipeline.issues.models import Issue
from pipeline.wiring import Pulse
from pulse_core.database import transaction, utcnow
from subscribers.models import Subscriber, SubscriberStatus

_CHUNK = 20_000


def seed_sent_issue(pulse: Pulse, readers: int, *, week: str, analyze: bool = True) -> int:
    """``readers`` active subscribers and a sent delivery each for the built ``week``; its id.

    ``week`` must have been built already.
    """
    sessions = pulse.db.sessions
    with transaction(sessions) as session:
        issue_id = session.scalar(select(Issue.id).where(Issue.week_key == week))
        assert issue_id is not None, f"build {week} first"
        start = add_readers(session, readers)
        session.execute(
            insert(Delivery).from_select(
                [
                    "issue_id",
                    "subscriber_id",
                    "status",
                    "attempts",
                    "retries",
                    "provider_message_id",
                    "created_at",
                    "sent_at",
                ],
                select(
                    literal(issue_id, Integer),
                    Subscriber.id,
                    literal(DeliveryStatus.SENT, Delivery.__table__.c.status.type),
                    literal(1, Integer),
                    literal(0, Integer),
                    literal("sgmsg") + cast(Subscriber.id, Delivery.provider_message_id.type),
                    literal(utcnow(), Delivery.__table__.c.created_at.type),
                    literal(utcnow(), Delivery.__table__.c.sent_at.type),
                ).where(Subscriber.id > start),
            )
        )
    if analyze:
        with transaction(sessions) as session:
            if session.get_bind().dialect.name == "postgresql":
                # Fresh statistics, as autovacuum would gather them (the CI server has it off).
                session.execute(text("ANALYZE"))
    return int(issue_id)


def add_readers(session: Session, readers: int) -> int:
    """``readers`` more active subscribers, numbered on from the highest id (returned)."""
    start = int(session.scalar(select(func.coalesce(func.max(Subscriber.id), 0))) or 0)
    if session.get_bind().dialect.name == "postgresql":
        _subscribers_pg(session, start, readers)
    else:
        _subscribers_rows(session, start, readers)
    return start


def _subscribers_pg(session: Session, start: int, readers: int) -> None:
    now = utcnow()
    n = func.generate_series(start + 1, start + readers).table_valued("n").render_derived()
    address = literal("reader") + cast(n.c.n, Subscriber.email.type) + literal("@example.com")
    session.execute(
        insert(Subscriber).from_select(
            [
                "email",
                "email_key",
                "first_name",
                "status",
                "created_at",
                "updated_at",
                "confirmed_at",
                "consent_text",
                "consent_at",
                "referral_code",
            ],
            select(
                address,
                address,
                literal("Ada"),
                literal(SubscriberStatus.ACTIVE, Subscriber.__table__.c.status.type),
                literal(now, Subscriber.__table__.c.created_at.type),
                literal(now, Subscriber.__table__.c.updated_at.type),
                literal(now, Subscriber.__table__.c.confirmed_at.type),
                literal("benchmark"),
                literal(now, Subscriber.__table__.c.consent_at.type),
                # One code per row: the column's Python default would give every row the same.
                literal("bulk") + cast(n.c.n, Subscriber.referral_code.type),
            ).select_from(n),
        )
    )


def _subscribers_rows(session: Session, start: int, readers: int) -> None:
    now = utcnow()
    for first in range(start + 1, start + readers + 1, _CHUNK):
        rows = [
            {
                "email": f"reader{n}@example.com",
                "email_key": f"reader{n}@example.com",
                "first_name": "Ada",
                "status": SubscriberStatus.ACTIVE,
                "created_at": now,
                "updated_at": now,
                "confirmed_at": now,
                "consent_text": "benchmark",
                "consent_at": now,
            }
            for n in range(first, min(first + _CHUNK, start + readers + 1))
        ]
        session.execute(insert(Subscriber), rows)


def seed_delivered_events(pulse: Pulse) -> None:
    """A stored ``delivered`` event for every delivery, as a week of webhooks leaves them."""
    now = utcnow()
    with transaction(pulse.db.sessions) as session:
        session.execute(
            insert(ProviderEvent).from_select(
                [
                    "provider",
                    "event_key",
                    "type",
                    "provider_message_id",
                    "delivery_id",
                    "subscriber_id",
                    "occurred_at",
                    "received_at",
                    "raw",
                ],
                select(
                    literal("sendgrid"),
                    literal("seeded:") + cast(Delivery.id, ProviderEvent.event_key.type),
                    literal(EventType.DELIVERED, ProviderEvent.__table__.c.type.type),
                    Delivery.provider_message_id,
                    Delivery.id,
                    Delivery.subscriber_id,
                    literal(now, ProviderEvent.__table__.c.occurred_at.type),
                    literal(now, ProviderEvent.__table__.c.received_at.type),
                    literal("{}"),
                ),
            )
        )
