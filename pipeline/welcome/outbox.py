"""Claiming series emails and recording the provider's answers: the weekly outbox's pattern.

A step's row is created as the claim itself: ``INSERT … SELECT`` of the readers it is due
for, straight into ``sending`` under a lease and a claim token, skipping anyone who has a
row for that step already (the unique key settles a race between two schedulers). Rows
become ``sent`` only on the provider's answer. A crash leaves them ``sending``: once the
lease runs out, or the process is known dead (delivery/liveness.py), the next pass takes the
batch back whole, with the same Message-IDs, so a provider with idempotency keys sees a
repeat, and at worst the one batch in flight is sent twice. Nobody is lost.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Table, and_, delete, exists, literal, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from pipeline.delivery.models import DeliveryStatus
from pipeline.delivery.outbox import mark_sent
from pipeline.delivery.providers.base import SendResult
from pipeline.delivery.retry import RetryPolicy
from pipeline.welcome.models import WelcomeSend, WelcomeSeriesStart
from pipeline.welcome.series import Window
from pulse_core.database import insert_skipping_existing
from subscribers.history import SubscriberChange
from subscribers.models import ERASED_KEY_PREFIX, Subscriber, SubscriberStatus

# Status changes that are a confirmation by the reader: an import or an operator's "add"
# vouches for consent but is not one, so a list moved in from elsewhere is not "welcomed".
CONFIRMING_CAUSES = ("confirm", "recover")


@dataclass(frozen=True)
class ClaimedSend:
    """A leased row with what is needed to address the email."""

    send_id: int
    subscriber_id: int
    email: str
    first_name: str | None


@dataclass(frozen=True)
class Lease:
    """Who claims (this process's liveness owner) and for how long."""

    owner: str | None
    seconds: float
    dead_owners: Collection[str] = ()


def series_start(session: Session, now: datetime) -> datetime:
    """When the series began (written by its migration; ``now`` if the row is missing)."""
    session.execute(
        insert_skipping_existing(session, WelcomeSeriesStart)
        .values(id=1, started_at=now)
        .on_conflict_do_nothing()
    )
    started = session.scalar(
        select(WelcomeSeriesStart.started_at).where(WelcomeSeriesStart.id == 1)
    )
    return started or now


def started_at(session: Session) -> datetime | None:
    """When the series began, without starting it (for status)."""
    return session.scalar(select(WelcomeSeriesStart.started_at).where(WelcomeSeriesStart.id == 1))


def mailable(now: datetime) -> ColumnElement[bool]:
    """Active, not erased and not paused: who may get a series email at ``now``."""
    return and_(
        Subscriber.status == SubscriberStatus.ACTIVE,
        ~Subscriber.email_key.startswith(ERASED_KEY_PREFIX),
        or_(Subscriber.paused_until.is_(None), Subscriber.paused_until <= now),
    )


def in_series(started: datetime) -> ColumnElement[bool]:
    """Readers who confirmed themselves since the series began."""
    return and_(
        Subscriber.confirmed_at.is_not(None),
        Subscriber.confirmed_at >= started,
        exists().where(
            SubscriberChange.subscriber_id == Subscriber.id,
            SubscriberChange.to_status == SubscriberStatus.ACTIVE,
            SubscriberChange.cause.in_(CONFIRMING_CAUSES),
            SubscriberChange.at >= started,
        ),
    )


def has_row(step: str) -> ColumnElement[bool]:
    return exists().where(WelcomeSend.subscriber_id == Subscriber.id, WelcomeSend.step == step)


def claim_due(
    session: Session,
    step: str,
    window: Window,
    started: datetime,
    now: datetime,
    limit: int,
    lease: Lease,
) -> list[ClaimedSend]:
    """Lease up to ``limit`` new rows for readers ``step`` is due and fresh for."""
    token = uuid.uuid4().hex
    source = (
        select(
            Subscriber.id,
            literal(step),
            literal(DeliveryStatus.SENDING.value),
            literal(1),
            literal(0),
            literal(token),
            literal(now + timedelta(seconds=lease.seconds), WelcomeSend.lease_until.type),
            literal(lease.owner, WelcomeSend.lease_owner.type),
            literal(now, WelcomeSend.created_at.type),
        )
        .where(
            mailable(now),
            in_series(started),
            Subscriber.confirmed_at > window.earliest,
            Subscriber.confirmed_at <= window.latest,
            ~has_row(step),
        )
        .order_by(Subscriber.id)
        .limit(limit)
    )
    columns = [
        "subscriber_id",
        "step",
        "status",
        "attempts",
        "retries",
        "claim_token",
        "lease_until",
        "lease_owner",
        "created_at",
    ]
    # Two schedulers may pick the same reader: the unique key keeps the first, and the
    # second's row is simply not inserted (it then finds nothing under its own token, and
    # leaves the rest of the step to the process that won, which claims until none is left).
    session.execute(
        insert_skipping_existing(session, WelcomeSend)
        .from_select(columns, source)
        .on_conflict_do_nothing()
    )
    return _rows_of(session, token)


def claim_left_behind(
    session: Session, step: str, now: datetime, lease: Lease
) -> tuple[list[ClaimedSend], list[int]]:
    """A batch a dead or stalled process left ``sending``, taken back whole; and who left.

    Readers who left (or paused) since are taken out and skipped; the rest keep their row
    ids, hence their Message-IDs and the batch's idempotency key.
    """
    left_behind = or_(WelcomeSend.lease_until.is_(None), WelcomeSend.lease_until < now)
    if lease.dead_owners:
        left_behind = or_(left_behind, WelcomeSend.lease_owner.in_(sorted(lease.dead_owners)))
    first = session.execute(
        select(WelcomeSend.id, WelcomeSend.claim_token)
        .where(WelcomeSend.step == step, WelcomeSend.status == DeliveryStatus.SENDING, left_behind)
        .order_by(WelcomeSend.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    ).first()
    if first is None:
        return [], []
    ids = list(
        session.scalars(
            select(WelcomeSend.id)
            .where(
                WelcomeSend.status == DeliveryStatus.SENDING,
                WelcomeSend.claim_token == first.claim_token,
            )
            .with_for_update(skip_locked=True)
        )
    )
    token = first.claim_token or uuid.uuid4().hex
    _lease(session, ids, token, now, lease)
    return _split_mailable(session, token, now)


def claim_retries(
    session: Session, step: str, now: datetime, limit: int, lease: Lease
) -> tuple[list[ClaimedSend], list[int]]:
    """Rows set back after a temporary refusal whose retry is due; and who left meanwhile."""
    ids = list(
        session.scalars(
            select(WelcomeSend.id)
            .where(
                WelcomeSend.step == step,
                WelcomeSend.status == DeliveryStatus.PENDING,
                or_(WelcomeSend.not_before.is_(None), WelcomeSend.not_before <= now),
            )
            .order_by(WelcomeSend.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if not ids:
        return [], []
    token = uuid.uuid4().hex
    _lease(session, ids, token, now, lease)
    return _split_mailable(session, token, now)


def _lease(session: Session, ids: Sequence[int], token: str, now: datetime, lease: Lease) -> None:
    session.execute(
        update(WelcomeSend)
        .where(WelcomeSend.id.in_(ids))
        .values(
            status=DeliveryStatus.SENDING,
            claim_token=token,
            lease_until=now + timedelta(seconds=lease.seconds),
            lease_owner=lease.owner,
            not_before=None,
            attempts=WelcomeSend.attempts + 1,
        )
    )


def _rows_of(session: Session, token: str) -> list[ClaimedSend]:
    rows = session.execute(
        select(WelcomeSend.id, Subscriber.id, Subscriber.email, Subscriber.first_name)
        .join(Subscriber, Subscriber.id == WelcomeSend.subscriber_id)
        .where(WelcomeSend.claim_token == token, WelcomeSend.status == DeliveryStatus.SENDING)
        .order_by(WelcomeSend.id)
    ).all()
    return [ClaimedSend(*row) for row in rows]


def _split_mailable(
    session: Session, token: str, now: datetime
) -> tuple[list[ClaimedSend], list[int]]:
    """The claimed rows still mailable, after marking the others skipped."""
    gone = list(
        session.scalars(
            select(WelcomeSend.id)
            .join(Subscriber, Subscriber.id == WelcomeSend.subscriber_id)
            .where(WelcomeSend.claim_token == token, ~mailable(now))
        )
    )
    if gone:
        skip(session, gone, "subscriber left or paused before it was sent")
    return _rows_of(session, token), gone


def lease_owners(session: Session) -> set[str | None]:
    """The processes holding series rows leased (to ask which of them died)."""
    query = select(WelcomeSend.lease_owner).where(WelcomeSend.status == DeliveryStatus.SENDING)
    return set(session.scalars(query.distinct()))


def skip(session: Session, ids: Sequence[int], why: str) -> None:
    session.execute(
        update(WelcomeSend)
        .where(WelcomeSend.id.in_(ids), WelcomeSend.status.in_(_OPEN))
        .values(status=DeliveryStatus.SKIPPED, lease_until=None, lease_owner=None, last_error=why)
    )


_OPEN = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)


def record_results(
    session: Session, results: Sequence[SendResult], now: datetime, policy: RetryPolicy
) -> tuple[int, int, int, list[int]]:
    """Apply the provider's answers: (sent, to retry, failed, ids of rows to suppress).

    Only rows still ``sending`` change, so a late answer cannot undo another process's.
    """
    accepted = [r for r in results if r.status.accepted]
    if accepted:
        table = WelcomeSend.__table__
        assert isinstance(table, Table)
        mark_sent(session, table, accepted, now)
    retry = failed = 0
    suppress: list[int] = []
    refused = [r for r in results if not r.status.accepted]
    retries = dict(
        session.execute(
            select(WelcomeSend.id, WelcomeSend.retries).where(
                WelcomeSend.id.in_([r.delivery_id for r in refused])
            )
        ).all()
    )
    for result in refused:
        row = policy.after_refusal(result, retries.get(result.delivery_id, 0), now)
        if row.status is DeliveryStatus.PENDING:
            retry += 1
        else:
            failed += 1
        session.execute(
            update(WelcomeSend)
            .where(
                WelcomeSend.id == result.delivery_id, WelcomeSend.status == DeliveryStatus.SENDING
            )
            .values(
                status=row.status,
                last_error=row.error,
                retries=row.retries,
                not_before=row.not_before,
                lease_until=None,
                lease_owner=None,
            )
        )
        if result.suppress:
            suppress.append(result.delivery_id)
    return len(accepted), retry, failed, suppress


def erase_welcome_sends(session: Session, subscriber_id: int, email: str) -> None:
    """Erasure hook: the person's series rows go (a provider's error text may name them)."""
    session.execute(delete(WelcomeSend).where(WelcomeSend.subscriber_id == subscriber_id))
