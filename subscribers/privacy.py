"""A subscriber's data: export (JSON for one, CSV for all) and erasure."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.orm import Session

from pulse_core.database import utcnow
from pulse_core.errors import NotFoundError
from subscribers.addresses import email_key, normalise_email
from subscribers.history import SubscriberChange, history_of
from subscribers.leaving import LeaveReason, LeavingRules, leave
from subscribers.models import (
    ERASED_KEY_PREFIX,
    ConfirmationSend,
    QueuedMail,
    Subscriber,
)
from subscribers.profile import PROFILE_FIELDS
from subscribers.referrals import credited_count, forget_referrals
from subscribers.spreadsheet import safe_writer

CSV_COLUMNS = (
    "id",
    "email",
    "first_name",
    "status",
    "created_at",
    "confirmed_at",
    "unsubscribed_at",
    "paused_until",
    "consent_at",
    "consent_source",
    "consent_ip",
    "consent_user_agent",
    "consent_text",
    "history",
    *PROFILE_FIELDS,
)


# Called with (session, subscriber id, address) before the address is wiped.
ErasureHook = Callable[[Session, int, str], None]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def find_by_email(session: Session, email: str) -> Subscriber:
    """The subscriber with this address; :class:`NotFoundError` if there is none."""
    address = normalise_email(email)
    subscriber = session.scalar(
        select(Subscriber).where(Subscriber.email_key == email_key(address))
    )
    if subscriber is None:
        raise NotFoundError(f"no subscriber with the address {address}")
    return subscriber


def subscriber_record(session: Session, subscriber: Subscriber) -> dict[str, Any]:
    """Everything stored about one subscriber, consent and history included."""
    return {
        "email": subscriber.email,
        "first_name": subscriber.first_name,
        "status": subscriber.status.value,
        "paused_until": _iso(subscriber.paused_until),
        "created_at": _iso(subscriber.created_at),
        "confirmed_at": _iso(subscriber.confirmed_at),
        "unsubscribed_at": _iso(subscriber.unsubscribed_at),
        "profile": {name: getattr(subscriber, name) for name in PROFILE_FIELDS},
        "consent": {
            "text": subscriber.consent_text,
            "at": _iso(subscriber.consent_at),
            "source": subscriber.consent_source,
            "ip": subscriber.consent_ip,
            "user_agent": subscriber.consent_user_agent,
        },
        "referrals": {
            "code": subscriber.referral_code,
            "confirmed": credited_count(session, subscriber.id),
        },
        "history": [
            {
                "at": _iso(change.at),
                "from": change.from_status.value if change.from_status else None,
                "to": change.to_status.value,
                "cause": change.cause,
                "detail": change.detail,
            }
            for change in history_of(session, subscriber.id)
        ],
    }


def _history_cell(changes: Sequence[SubscriberChange]) -> str:
    return "; ".join(f"{c.at.isoformat()} {c.to_status.value} ({c.cause})" for c in changes)


def iter_export_rows(
    session: Session, page_size: int = 1000, where: Sequence[ColumnElement[bool]] = ()
) -> Iterator[list[str]]:
    """Every subscriber (``where`` they match) as CSV cells, a page at a time (keyset)."""
    last_id = 0
    while True:
        page = list(
            session.scalars(
                select(Subscriber)
                .where(Subscriber.id > last_id, *where)
                .order_by(Subscriber.id)
                .limit(page_size)
            )
        )
        if not page:
            return
        ids = [s.id for s in page]
        history: dict[int, list[SubscriberChange]] = {i: [] for i in ids}
        for change in session.scalars(
            select(SubscriberChange)
            .where(SubscriberChange.subscriber_id.in_(ids))
            .order_by(SubscriberChange.at, SubscriberChange.id)
        ):
            history[change.subscriber_id].append(change)
        for s in page:
            yield [
                str(s.id),
                s.email,
                s.first_name or "",
                s.status.value,
                _iso(s.created_at) or "",
                _iso(s.confirmed_at) or "",
                _iso(s.unsubscribed_at) or "",
                _iso(s.paused_until) or "",
                _iso(s.consent_at) or "",
                s.consent_source or "",
                s.consent_ip or "",
                s.consent_user_agent or "",
                s.consent_text or "",
                _history_cell(history[s.id]),
                *(getattr(s, name) or "" for name in PROFILE_FIELDS),
            ]
        session.expunge_all()
        last_id = ids[-1]


def write_export_csv(
    session: Session, out: TextIO, where: Sequence[ColumnElement[bool]] = ()
) -> int:
    """Write every subscriber (``where`` they match) as CSV to ``out``; returns the rows."""
    # Addresses, names and user agents come from forms: guard them against formulas.
    writer = safe_writer(out)
    writer.writerow(CSV_COLUMNS)
    count = 0
    for row in iter_export_rows(session, where=where):
        writer.writerow(row)
        count += 1
    return count


def erase(
    session: Session,
    subscriber: Subscriber,
    rules: LeavingRules,
    hooks: Sequence[ErasureHook] = (),
) -> None:
    """Remove the subscriber's personal data, keeping only a keyed hash in the suppression list.

    First the person leaves as everyone does (:func:`subscribers.leaving.leave`: suppressed,
    no pause, pending deliveries withdrawn). The row stays as an anonymous tombstone so its
    id (which old links name) is never given to someone else; history and consent go with
    the address. ``hooks`` erase what other parts of the system keep about the person (the
    wiring passes, e.g., provider events).
    """
    if subscriber.erased:
        return
    leave(session, subscriber, LeaveReason.ERASED, cause="erasure", rules=rules)
    for hook in hooks:
        hook(session, subscriber.id, subscriber.email)
    session.execute(delete(SubscriberChange).where(SubscriberChange.subscriber_id == subscriber.id))
    session.execute(delete(ConfirmationSend).where(ConfirmationSend.subscriber_id == subscriber.id))
    session.execute(delete(QueuedMail).where(QueuedMail.subscriber_id == subscriber.id))
    forget_referrals(session, subscriber)
    subscriber.email = f"erased-{subscriber.id}@erased.invalid"
    subscriber.email_key = f"{ERASED_KEY_PREFIX}{subscriber.id}"
    subscriber.first_name = None
    subscriber.consent_text = None
    subscriber.consent_at = None
    subscriber.consent_ip = None
    subscriber.consent_user_agent = None
    subscriber.consent_source = None
    for name in PROFILE_FIELDS:
        setattr(subscriber, name, None)
    subscriber.updated_at = utcnow()
    session.flush()
