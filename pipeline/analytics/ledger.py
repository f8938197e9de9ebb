"""The delivery ledger: who received an issue, who did not and why; and the fixable failures.

Each delivery row ends ``sent``, ``failed`` or ``skipped`` (see the outbox); provider webhooks
add bounces and complaints to sent rows. The ledger reads those, unchanged, into one entry per
recipient with a plain reason. :func:`requeue_fixable` puts back the failures a retry can fix
-- transient ones whose retries ran out, to a subscriber still on the list -- each once ever
(``delivery_retries``), never a bounce, a refusal of the address, or a suppression.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pipeline.analytics.models import DeliveryRetry
from pipeline.analytics.report import spreadsheet_safe
from pipeline.delivery.models import Delivery, DeliveryStatus
from pipeline.events.models import BounceKind, EventType, ProviderEvent
from subscribers.models import Subscriber, SubscriberStatus
from subscribers.suppression import suppressed_among

LedgerStatus = Literal["delivered", "bounced", "complained", "failed", "skipped", "pending"]
LEDGER_STATUSES: tuple[LedgerStatus, ...] = (
    "delivered",
    "bounced",
    "complained",
    "failed",
    "skipped",
    "pending",
)


@dataclass(frozen=True)
class LedgerEntry:
    """One recipient of one issue, as the ledger shows them."""

    delivery_id: int
    email: str
    status: LedgerStatus
    reason: str
    attempts: int
    sent_at: datetime | None
    retryable: bool
    retried: bool

    def row(self) -> dict[str, str]:
        data = asdict(self)
        data["sent_at"] = self.sent_at.isoformat() if self.sent_at else ""
        return {
            k: "" if v is None else str(v).lower() if isinstance(v, bool) else str(v)
            for k, v in data.items()
        }


def ledger(
    session: Session,
    issue_id: int,
    *,
    status: LedgerStatus | None = None,
    search: str | None = None,
    suppression_keys: Sequence[str] = (),
    limit: int | None = None,
) -> list[LedgerEntry]:
    """The issue's recipients, filtered by ledger status and an address/reason search."""
    entries = list(_entries(session, issue_id, suppression_keys))
    if status is not None:
        entries = [e for e in entries if e.status == status]
    if search:
        needle = search.strip().lower()
        entries = [e for e in entries if needle in e.email.lower() or needle in e.reason.lower()]
    return entries[:limit] if limit is not None else entries


def _entries(
    session: Session, issue_id: int, suppression_keys: Sequence[str]
) -> Iterator[LedgerEntry]:
    rows = session.execute(
        select(
            Delivery.id,
            Delivery.status,
            Delivery.attempts,
            Delivery.retries,
            Delivery.last_error,
            Delivery.sent_at,
            Subscriber.email,
            Subscriber.status,
            DeliveryRetry.delivery_id,
        )
        .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .outerjoin(DeliveryRetry, DeliveryRetry.delivery_id == Delivery.id)
        .where(Delivery.issue_id == issue_id)
        .order_by(Delivery.id)
    ).all()
    events = _bounces_and_complaints(session, issue_id)
    emails = [row[6] for row in rows if row[1] is DeliveryStatus.FAILED]
    suppressed = suppressed_among(session, emails, suppression_keys) if suppression_keys else set()
    for delivery_id, state, attempts, retries, error, sent_at, email, who, retried in rows:
        event = events.get(delivery_id)
        reason = error or ""
        retryable = False
        ledger_status: LedgerStatus
        if state is DeliveryStatus.SENT:
            if event is not None:
                ledger_status, reason = event
            else:
                ledger_status, reason = "delivered", ""
        elif state is DeliveryStatus.FAILED:
            ledger_status = "failed"
            on_list = who is SubscriberStatus.ACTIVE and email not in suppressed
            # Given up after temporary refusals (retry.py's policy ran out), not refused outright.
            transient = retries > 0
            kind = "transient, retries ran out" if transient else "the provider refused the address"
            if not on_list:
                kind = f"subscriber is {who.value}" + (
                    ", suppressed" if email in suppressed else ""
                )
            reason = f"{kind}: {error or 'no reason given'}"
            retryable = transient and on_list and retried is None
        elif state is DeliveryStatus.SKIPPED:
            ledger_status = "skipped"
            reason = f"{error or 'not mailed'} (subscriber is {who.value})"
        else:
            ledger_status = "pending"
        yield LedgerEntry(
            delivery_id=delivery_id,
            email=email,
            status=ledger_status,
            reason=reason,
            attempts=attempts,
            sent_at=sent_at,
            retryable=retryable,
            retried=retried is not None,
        )


def _bounces_and_complaints(session: Session, issue_id: int) -> dict[int, tuple[LedgerStatus, str]]:
    rows = session.execute(
        select(
            ProviderEvent.delivery_id,
            ProviderEvent.type,
            ProviderEvent.bounce_kind,
            ProviderEvent.provider,
        )
        .join(Delivery, Delivery.id == ProviderEvent.delivery_id)
        .where(
            Delivery.issue_id == issue_id,
            ProviderEvent.type.in_((EventType.BOUNCED, EventType.COMPLAINED)),
        )
        .order_by(ProviderEvent.occurred_at)
    )
    found: dict[int, tuple[LedgerStatus, str]] = {}
    for delivery_id, kind, bounce_kind, provider in rows:
        if delivery_id is None:
            continue
        if kind is EventType.COMPLAINED:
            found[delivery_id] = ("complained", f"complaint reported by {provider}")
        elif found.get(delivery_id, ("",))[0] != "complained":
            which = "soft" if bounce_kind is BounceKind.SOFT else "hard"
            found[delivery_id] = ("bounced", f"{which} bounce reported by {provider}")
    return found


def requeue_fixable(session: Session, issue_id: int, suppression_keys: Sequence[str]) -> list[int]:
    """Put every retryable failure back in the queue, once ever; returns their delivery ids."""
    fixable = [
        e
        for e in ledger(session, issue_id, status="failed", suppression_keys=suppression_keys)
        if e.retryable
    ]
    ids = [e.delivery_id for e in fixable]
    if not ids:
        return []
    # The retry row is the "once": its primary key refuses a second retry of a delivery.
    session.add_all(
        DeliveryRetry(delivery_id=e.delivery_id, previous_error=e.reason[:500]) for e in fixable
    )
    session.flush()
    session.execute(
        update(Delivery)
        .where(Delivery.id.in_(ids), Delivery.status == DeliveryStatus.FAILED)
        .values(
            status=DeliveryStatus.PENDING,
            attempts=0,
            retries=0,
            not_before=None,
            lease_until=None,
            lease_owner=None,
            claim_token=None,
        )
    )
    return ids


LEDGER_FIELDS = (
    "delivery_id",
    "email",
    "status",
    "reason",
    "attempts",
    "sent_at",
    "retryable",
    "retried",
)


def ledger_csv(entries: Sequence[LedgerEntry]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=LEDGER_FIELDS, lineterminator="\n")
    writer.writeheader()
    for entry in entries:
        writer.writerow({k: spreadsheet_safe(v) for k, v in entry.row().items()})
    return out.getvalue()


def ledger_json(entries: Sequence[LedgerEntry]) -> str:
    rows = [{**asdict(e), "sent_at": e.sent_at.isoformat() if e.sent_at else None} for e in entries]
    return json.dumps(rows, indent=2, ensure_ascii=False)
