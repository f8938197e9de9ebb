"""The deliveries table as an outbox: create rows, claim batches, record the provider's answer.

Rows move pending → sending (leased) → sent | failed | skipped. A row only becomes ``sent``
after the provider acknowledged it, so a crash leaves it ``sending``, leased by a process that
is gone; the next claim hands it out again as soon as that process is known dead (its
liveness lock is gone, see liveness.py) or its lease ran out: nobody is skipped, and the only
message that can be sent twice is one in the batch that was in flight.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta

from sqlalchemy import (
    Integer,
    String,
    Table,
    and_,
    bindparam,
    column,
    exists,
    func,
    literal,
    or_,
    select,
    update,
    values,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from pipeline.delivery.models import Delivery, DeliveryStatus, IssueSummary
from pipeline.delivery.providers.base import SendResult
from pipeline.delivery.retry import RetryPolicy
from pipeline.delivery.store import ClaimedBatch, ClaimedDelivery
from pipeline.delivery.waves import WavePlan
from pipeline.delivery.withdraw import skip_pending_deliveries
from pipeline.errors import IssueError
from pulse_core.database import insert_skipping_existing, utcnow
from pulse_core.statistics import Statistics
from subscribers.leaving import LeaveReason, LeavingRules, leave
from subscribers.models import Subscriber, SubscriberStatus

# Any constant shared by every worker; names the advisory lock taken while claiming.
CLAIM_LOCK_KEY = 0x50554C5345
# Who may still be mailed at claim time; the paused-subscribers feature may add to this.
CLAIMABLE = frozenset({SubscriberStatus.ACTIVE})


def create_deliveries(session: Session, issue_id: int, waves: WavePlan | None = None) -> int:
    """One pending row per active subscriber not yet in this issue; returns rows added.

    A single INSERT … SELECT keeps memory flat however long the list is, and the unique
    (issue, subscriber) key, skipping the rows that exist, makes it safe to run again (and
    settles two runs at once) — except for a pruned issue, whose rows are gone: creating
    them again would mail everyone twice. With ``waves`` (local-time sending) each wave is
    one INSERT, earliest first, with its ``due_at``: rows are numbered in wave order, so a
    claim (in id order) finds the due ones first. A last INSERT gives anyone whose zone no
    wave named (one changed or joined meanwhile) the list's own instant.
    """
    if session.get(IssueSummary, issue_id) is not None:
        raise IssueError(
            "this issue's deliveries were pruned (pulse db prune); it cannot be sent again"
        )
    now = utcnow()
    before = _count_rows(session, issue_id)
    if waves is None:
        _insert_pending(session, issue_id, now)
    else:
        zones = list(
            session.scalars(select(Subscriber.timezone).where(_eligible(issue_id, now)).distinct())
        )
        for due_at, names in waves.groups(zones):
            _insert_pending(session, issue_id, now, _in_zones(names), due_at)
        _insert_pending(session, issue_id, now, ~_in_zones(zones), waves.instant(None))
    # Counted rather than read from rowcount, which drivers report unreliably here.
    created = _count_rows(session, issue_id) - before
    # The claims that follow plan on what the planner knows of the table, which a send's
    # creation can multiply many times over before autovacuum looks (or with it off).
    statistics = Statistics(session)
    statistics.wrote("deliveries", created)
    statistics.refresh()
    return created


def _eligible(issue_id: int, now: datetime) -> ColumnElement[bool]:
    """Active, not paused, and not yet in this issue."""
    already = exists().where(
        and_(Delivery.issue_id == issue_id, Delivery.subscriber_id == Subscriber.id)
    )
    return and_(_active_unpaused(now), ~already)


def _active_unpaused(now: datetime) -> ColumnElement[bool]:
    return and_(Subscriber.status == SubscriberStatus.ACTIVE, _not_paused(now))


def _in_zones(names: Collection[str | None]) -> ColumnElement[bool]:
    """Readers whose zone is one of ``names`` (``None``: unset); never NULL, so ``~`` is exact."""
    known = [name for name in names if name is not None]
    named = and_(Subscriber.timezone.is_not(None), Subscriber.timezone.in_(known))
    return or_(named, Subscriber.timezone.is_(None)) if None in names else named


def _insert_pending(
    session: Session,
    issue_id: int,
    now: datetime,
    where: ColumnElement[bool] | None = None,
    due_at: datetime | None = None,
) -> None:
    """Add the mailable readers ``where`` selects; the unique key skips those already in."""
    columns = ["issue_id", "subscriber_id", "status", "attempts", "created_at"]
    values = [
        literal(issue_id),
        Subscriber.id,
        literal(DeliveryStatus.PENDING.value),
        literal(0),
        literal(now, Delivery.created_at.type),
    ]
    if due_at is not None:
        columns.append("due_at")
        values.append(literal(due_at, Delivery.due_at.type))
    source = select(*values).where(_active_unpaused(now))
    if where is not None:
        source = source.where(where).order_by(Subscriber.id)
    session.execute(
        insert_skipping_existing(session, Delivery)
        .from_select(columns, source)
        .on_conflict_do_nothing(index_elements=["issue_id", "subscriber_id"])
    )


def _not_paused(now: datetime) -> ColumnElement[bool]:
    """A paused subscriber stays active but gets no issue until the pause ends."""
    return or_(Subscriber.paused_until.is_(None), Subscriber.paused_until <= now)


def _count_rows(session: Session, issue_id: int) -> int:
    query = select(func.count()).select_from(Delivery).where(Delivery.issue_id == issue_id)
    return int(session.scalar(query) or 0)


def claim_next_batch(
    session: Session,
    issue_id: int,
    limit: int,
    *,
    lease_seconds: float = 300.0,
    owner: str | None = None,
    dead_owners: Collection[str] = (),
) -> list[ClaimedDelivery]:
    """Lease up to ``limit`` rows (see :func:`claim_batch`); returns just the rows."""
    claimed = claim_batch(
        session, issue_id, limit, lease_seconds=lease_seconds, owner=owner, dead_owners=dead_owners
    )
    return claimed.rows if claimed else []


def claim_batch(
    session: Session,
    issue_id: int,
    limit: int,
    *,
    lease_seconds: float = 300.0,
    owner: str | None = None,
    dead_owners: Collection[str] = (),
    now: datetime | None = None,
) -> ClaimedBatch | None:
    """Lease the next batch: first a batch left by a dead sender, else up to ``limit`` pending rows.

    A batch is left behind when the process that leased it is in ``dead_owners`` (its
    liveness lock is gone: it was killed) or its lease ran out (a process that stalled, or
    one whose liveness cannot be known). The provider may or may not have taken it, so it is
    handed out again *whole and unchanged*: the batch (and the idempotency key derived from
    its rows) is the same as before and a provider with idempotency keys recognises the
    repeat. ``owner`` (this process's liveness owner) is written on the rows leased.

    On PostgreSQL ``FOR UPDATE SKIP LOCKED`` lets several workers claim disjoint batches
    without waiting on each other; SQLite ignores it and relies on BEGIN IMMEDIATE (one
    writer at a time). Fresh rows whose subscriber left meanwhile are marked skipped here,
    so an unsubscribe, bounce or complaint takes effect before the next batch mid-send
    (and before a later local-time wave). ``now`` is the clock seam (default: the clock).
    """
    now = now or utcnow()
    lease = now + timedelta(seconds=lease_seconds)
    replay = _reclaim_left_behind(session, issue_id, now, lease, owner, dead_owners)
    if replay is not None:
        return replay
    pending = session.execute(
        select(Delivery.id, Delivery.variant)
        .where(
            Delivery.issue_id == issue_id,
            Delivery.status == DeliveryStatus.PENDING,
            # Set aside after a temporary refusal: not before its retry is due.
            or_(Delivery.not_before.is_(None), Delivery.not_before <= now),
            # Local-time sending: not before the reader's wave (waves.py).
            or_(Delivery.due_at.is_(None), Delivery.due_at <= now),
        )
        # One variant at a time (a batch shares one rendered body): the claim index
        # (issue, status, variant, id) hands them out in this order without a sort.
        .order_by(Delivery.variant, Delivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not pending:
        return None
    # The slice may reach into the next variant: those rows stay pending for the next claim.
    ids = [row_id for row_id, variant in pending if variant == pending[0].variant]
    claimed = [row for row, mailable in _addressed(session, ids, now) if mailable]
    # Left the list, paused, or (deliveries have no foreign keys) deleted by an operator.
    kept = {row.delivery_id for row in claimed}
    gone = [row_id for row_id in ids if row_id not in kept]
    if gone:
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(gone))
            .values(
                status=DeliveryStatus.SKIPPED,
                lease_until=None,
                not_before=None,
                last_error="subscriber left",
            )
        )
    if not claimed:
        # Everything in this slice left the list; the caller simply claims again.
        return ClaimedBatch(token="", rows=[])
    token = uuid.uuid4().hex
    session.execute(
        update(Delivery)
        .where(Delivery.id.in_([c.delivery_id for c in claimed]))
        .values(
            status=DeliveryStatus.SENDING,
            lease_until=lease,
            lease_owner=owner,
            not_before=None,
            claim_token=token,
            attempts=Delivery.attempts + 1,
        )
    )
    return ClaimedBatch(token=token, rows=claimed)


def _reclaim_left_behind(
    session: Session,
    issue_id: int,
    now: datetime,
    lease: datetime,
    owner: str | None,
    dead_owners: Collection[str],
) -> ClaimedBatch | None:
    left_behind = or_(Delivery.lease_until.is_(None), Delivery.lease_until < now)
    if dead_owners:
        left_behind = or_(left_behind, Delivery.lease_owner.in_(sorted(dead_owners)))
    expired_rows = select(Delivery.id, Delivery.claim_token).where(
        Delivery.issue_id == issue_id, Delivery.status == DeliveryStatus.SENDING, left_behind
    )
    if session.execute(expired_rows.limit(1)).first() is None:
        return None
    if session.get_bind().dialect.name == "postgresql":
        # A crashed batch must be taken whole: two workers each locking part of it would
        # split it (and change its idempotency key). This transaction-scoped lock
        # serialises reclaims, which are rare; SQLite already has a single writer.
        session.execute(select(func.pg_advisory_xact_lock(CLAIM_LOCK_KEY)))
    expired = session.execute(expired_rows.order_by(Delivery.id).limit(1)).first()
    if expired is None:
        return None
    return _reclaim(session, issue_id, expired.claim_token, lease, owner)


def _reclaim(
    session: Session, issue_id: int, token: str | None, lease: datetime, owner: str | None
) -> ClaimedBatch | None:
    query = select(Delivery.id).where(
        Delivery.issue_id == issue_id,
        Delivery.status == DeliveryStatus.SENDING,
        Delivery.claim_token.is_(None) if token is None else Delivery.claim_token == token,
    )
    ids = list(session.scalars(query.order_by(Delivery.id).with_for_update()))
    if not ids:
        return None
    new_token = token or uuid.uuid4().hex
    session.execute(
        update(Delivery)
        .where(Delivery.id.in_(ids))
        .values(
            lease_until=lease,
            lease_owner=owner,
            claim_token=new_token,
            attempts=Delivery.attempts + 1,
        )
    )
    rows = [row for row, _mailable in _addressed(session, ids, utcnow())]
    return ClaimedBatch(token=new_token, rows=rows, replay=True)


def _addressed(
    session: Session, ids: Sequence[int], now: datetime
) -> list[tuple[ClaimedDelivery, bool]]:
    """Each row's addressee, and whether they may still be mailed (on the list, not paused)."""
    rows = session.execute(
        select(
            Delivery.id,
            Subscriber.id,
            Subscriber.email,
            Subscriber.first_name,
            Subscriber.referral_code,
            Subscriber.status,
            Subscriber.paused_until,
            Delivery.variant,
        )
        .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .where(Delivery.id.in_(ids))
        .order_by(Delivery.id)
    ).all()
    return [
        (
            ClaimedDelivery(delivery_id, subscriber_id, email, first_name, code, variant),
            status in CLAIMABLE and (paused_until is None or paused_until <= now),
        )
        for (
            delivery_id, subscriber_id, email, first_name, code, status, paused_until, variant
        ) in rows
    ]  # fmt: skip


def mark_sent(
    session: Session, table: Table, accepted: Sequence[SendResult], now: datetime
) -> None:
    """Mark the rows of ``table`` the provider took as sent, in one statement per batch.

    For any outbox table shaped like ``deliveries`` (``id``, ``status``, the lease columns);
    only rows still ``sending`` change, so a late answer cannot undo another process's. On
    PostgreSQL the batch's (id, message id) pairs are joined in as a VALUES list (UPDATE …
    FROM): one statement planned once, where an executemany had the server parse, plan and
    run an UPDATE per recipient, its largest cost per message. SQLite (in-process, and no
    column list on a VALUES alias) takes the executemany.
    """
    sent = {
        "status": DeliveryStatus.SENT.value,
        "sent_at": now,
        "last_error": None,
        "lease_until": None,
        "lease_owner": None,
    }
    still_sending = table.c.status == DeliveryStatus.SENDING.value
    if session.get_bind().dialect.name == "postgresql":
        answers = values(
            column("row_id", Integer), column("message_id", String), name="answers"
        ).data([(r.delivery_id, r.provider_message_id) for r in accepted])
        session.execute(
            table.update()
            .where(table.c.id == answers.c.row_id, still_sending)
            .values(provider_message_id=answers.c.message_id, **sent)
        )
        return
    session.execute(
        table.update()
        .where(table.c.id == bindparam("row_id"), still_sending)
        .values(provider_message_id=bindparam("message_id"), **sent),
        [{"row_id": r.delivery_id, "message_id": r.provider_message_id} for r in accepted],
    )


def extend_lease(session: Session, token: str, lease_seconds: float) -> None:
    """Keep a batch leased while its worker waits to retry it."""
    session.execute(
        update(Delivery)
        .where(Delivery.claim_token == token, Delivery.status == DeliveryStatus.SENDING)
        .values(lease_until=utcnow() + timedelta(seconds=lease_seconds))
    )


def record_results(
    session: Session,
    results: Sequence[SendResult],
    *,
    suppression_key: str | None = None,
    retry_policy: RetryPolicy | None = None,
) -> Counter[str]:
    """Apply the provider's per-recipient answers; returns counts by outcome.

    Only rows still ``sending`` are touched, so a late answer cannot undo another worker's.
    A temporary refusal sends the row back to the queue until its retry is due, or fails it
    once ``retry_policy`` gives up (see retry.py).
    """
    now = utcnow()
    outcome: Counter[str] = Counter()
    accepted = [r for r in results if r.status.accepted]
    if accepted:
        table = Delivery.__table__
        assert isinstance(table, Table)
        mark_sent(session, table, accepted, now)
        outcome["sent"] += len(accepted)
    refused = [r for r in results if not r.status.accepted]
    if not refused:
        return outcome
    policy = retry_policy or RetryPolicy()
    retries_so_far = dict(
        session.execute(
            select(Delivery.id, Delivery.retries).where(
                Delivery.id.in_([r.delivery_id for r in refused]),
                Delivery.status == DeliveryStatus.SENDING,
            )
        ).all()
    )
    for result in refused:
        # A row no longer ``sending`` is left as it is by the update below.
        row = policy.after_refusal(result, retries_so_far.get(result.delivery_id, 0), now)
        outcome["retry" if row.status is DeliveryStatus.PENDING else "failed"] += 1
        values = {
            "status": row.status,
            "last_error": row.error,
            "retries": row.retries,
            "not_before": row.not_before,
            "lease_until": None,
            "lease_owner": None,
        }
        session.execute(
            update(Delivery)
            .where(Delivery.id == result.delivery_id, Delivery.status == DeliveryStatus.SENDING)
            .values(values)
        )
        if result.suppress:
            _suppress(session, result, suppression_key)
    return outcome


def release_batch(
    session: Session,
    delivery_ids: Sequence[int],
    error: str,
    *,
    not_before: datetime | None = None,
) -> None:
    """Return a batch the provider did not take to the queue, noting why (and when it may go)."""
    session.execute(
        update(Delivery)
        .where(Delivery.id.in_(delivery_ids), Delivery.status == DeliveryStatus.SENDING)
        .values(
            status=DeliveryStatus.PENDING,
            lease_until=None,
            lease_owner=None,
            claim_token=None,
            last_error=error,
            not_before=not_before,
        )
    )


def _suppress(session: Session, result: SendResult, key: str | None) -> None:
    """The provider says never mail this address again: suppress it and mark it bounced."""
    subscriber = session.scalar(
        select(Subscriber)
        .join(Delivery, Delivery.subscriber_id == Subscriber.id)
        .where(Delivery.id == result.delivery_id)
    )
    if subscriber is None:
        return
    rules = LeavingRules([key] if key else [], skip_pending_deliveries)
    why, cause = LeaveReason.SUPPRESSED, "bounce:inactive:send"
    leave(session, subscriber, why, cause=cause, detail=result.error, rules=rules)


def counts_by_status(session: Session, issue_id: int) -> dict[DeliveryStatus, int]:
    rows = session.execute(
        select(Delivery.status, func.count())
        .where(Delivery.issue_id == issue_id)
        .group_by(Delivery.status)
    ).all()
    return {status: count for status, count in rows}


def unfinished(session: Session, issue_id: int) -> int:
    """Rows still pending or leased."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(
                Delivery.issue_id == issue_id,
                Delivery.status.in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING]),
            )
        )
        or 0
    )


def claimable_now(session: Session, issue_id: int, now: datetime | None = None) -> bool:
    """Whether a pending row is due now (one a claim that just found none may get next).

    A claim finds none while another sender's claim holds the last rows locked (SKIP LOCKED
    passes them by) or just before a batch comes back; a sender that ended its run on that
    would call a send unfinished that others are finishing. ``now`` is the clock seam.
    """
    now = now or utcnow()
    query = select(Delivery.id).where(
        Delivery.issue_id == issue_id,
        Delivery.status == DeliveryStatus.PENDING,
        or_(Delivery.not_before.is_(None), Delivery.not_before <= now),
        or_(Delivery.due_at.is_(None), Delivery.due_at <= now),
    )
    # In the claim's order: the planner then walks the (issue, status, variant, id) index;
    # without an order, LIMIT 1 tempts it into scanning the table from its sent start.
    ordered = query.order_by(Delivery.variant, Delivery.id).limit(1)
    return session.execute(ordered).first() is not None


def next_retry_at(session: Session, issue_id: int) -> datetime | None:
    """When the earliest row set aside to retry later becomes claimable, if any."""
    return session.scalar(
        select(func.min(Delivery.not_before)).where(
            Delivery.issue_id == issue_id,
            Delivery.status == DeliveryStatus.PENDING,
            Delivery.not_before.is_not(None),
        )
    )


def retries_waiting(session: Session, issue_id: int, now: datetime | None = None) -> int:
    """Rows set aside after a temporary refusal whose retry is not due yet."""
    query = select(func.count()).where(
        Delivery.issue_id == issue_id,
        Delivery.status == DeliveryStatus.PENDING,
        Delivery.not_before > (now or utcnow()),
    )
    return int(session.scalar(query.select_from(Delivery)) or 0)


def lease_owners(session: Session, issue_id: int) -> set[str | None]:
    """The processes holding this issue's leased rows (None: leased before owners were kept)."""
    return set(
        session.scalars(
            select(Delivery.lease_owner)
            .where(Delivery.issue_id == issue_id, Delivery.status == DeliveryStatus.SENDING)
            .distinct()
        )
    )


def leased_by_owner(session: Session, issue_id: int) -> dict[str | None, int]:
    """How many of this issue's rows each process holds leased."""
    rows = session.execute(
        select(Delivery.lease_owner, func.count())
        .where(Delivery.issue_id == issue_id, Delivery.status == DeliveryStatus.SENDING)
        .group_by(Delivery.lease_owner)
    ).all()
    return {owner: count for owner, count in rows}
