"""The send store in the database: each operation one short transaction over the outbox.

The row-level queries (claims with ``FOR UPDATE SKIP LOCKED``, whole-batch reclaims under an
advisory lock, per-recipient results) are outbox.py's, with the reasons they are shaped as
they are; this module adds the issue-level ones (still sending? sent now?) and opens one
transaction per operation, so a lease or a result is committed before the engine acts on it.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any, TypeAlias

from sqlalchemy import func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session, sessionmaker

from pipeline.delivery.breaker import (
    BreakerThresholds,
    EventFigures,
    SendHealth,
    sent_that_matters,
)
from pipeline.delivery.liveness import ProcessLiveness
from pipeline.delivery.models import Delivery, DeliveryStatus
from pipeline.delivery.outbox import (
    claim_batch,
    claimable_now,
    counts_by_status,
    extend_lease,
    lease_owners,
    leased_by_owner,
    next_retry_at,
    record_results,
    release_batch,
    retries_waiting,
)
from pipeline.delivery.providers.base import SendResult
from pipeline.delivery.ratelimit import current_hold
from pipeline.delivery.retry import RetryPolicy
from pipeline.delivery.send_state import pause_send
from pipeline.delivery.store import Claim, ClaimedBatch, Finish, IssueState, Outlook
from pipeline.delivery.waves import next_wave
from pipeline.issues.models import Issue, IssueStatus
from pipeline.issues.states import Decision, transition_values
from pulse_core.database import transaction, utcnow

Sessions: TypeAlias = "sessionmaker[Session]"

# Counts an issue's hard bounces and complaints from the webhooks' events. Events import
# delivery, so that query lives on their side (pipeline.events.send_health) and comes in here.
ReadEventFigures = Callable[[Session, int], EventFigures]


def no_event_figures(session: Session, issue_id: int) -> EventFigures:
    """For sends where no events are read (a tool, a test): the breaker sees no bounces."""
    return EventFigures()


def measure_health(
    session: Session,
    issue_id: int,
    read_events: ReadEventFigures = no_event_figures,
    limits: BreakerThresholds | None = None,
) -> SendHealth:
    """Messages sent so far and deliveries that hard-bounced or drew a complaint.

    With ``limits`` (the breaker's), sent messages are counted only as far as they matter
    to it (:func:`~pipeline.delivery.breaker.sent_that_matters`): the count over a large
    send's rows is its costliest query, and the breaker asks once a second.
    """
    figures = read_events(session, issue_id)
    rows = select(Delivery.id).where(
        Delivery.issue_id == issue_id, Delivery.status == DeliveryStatus.SENT
    )
    if limits is not None:
        # In the claim index's order, so the planner walks (issue, status, variant, id) for
        # the few rows it needs instead of scanning the table from its start.
        rows = rows.order_by(Delivery.variant, Delivery.id).limit(
            sent_that_matters(figures, limits)
        )
    sent = session.scalar(select(func.count()).select_from(rows.subquery()))
    return SendHealth(int(sent or 0), figures.hard_bounces, figures.complaints)


class SqlSendStore:
    """One issue's outbox in the ``deliveries`` table, as one sender (``liveness``) sees it."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        issue_id: int,
        liveness: ProcessLiveness,
        *,
        retry: RetryPolicy | None = None,
        suppression_key: str | None = None,
        read_events: ReadEventFigures = no_event_figures,
        clock: Callable[[], float] = time.time,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.issue_id = issue_id
        self.liveness = liveness
        self.retry = retry or RetryPolicy()
        self.suppression_key = suppression_key
        self.read_events = read_events
        self.clock = clock
        self.now = now  # the clock seam for what is due (local-time waves)

    def issue_state(self) -> IssueState:
        with transaction(self.sessions) as session:
            status, reason = session.execute(
                select(Issue.status, Issue.pause_reason).where(Issue.id == self.issue_id)
            ).one_or_none() or (None, None)
        if status is IssueStatus.SENDING:
            return IssueState(sending=True)
        paused = status is IssueStatus.PAUSED
        return IssueState(sending=False, paused_reason=reason if paused else None)

    def claim(
        self, limit: int, *, lease_seconds: float, dead_owners: Collection[str]
    ) -> Claim | None:
        # Reading the hold in the claim's transaction spares an uncapped send a second
        # transaction per batch; only the compose time lies between this look and the request.
        with transaction(self.sessions) as session:
            batch = claim_batch(
                session,
                self.issue_id,
                limit,
                lease_seconds=lease_seconds,
                owner=self.liveness.owner,
                dead_owners=dead_owners,
                now=self.now(),
            )
            if batch is None:
                return None
            return Claim(batch, held=current_hold(session, self.clock()) is not None)

    def record(self, results: Sequence[SendResult]) -> Counter[str]:
        with transaction(self.sessions) as session:
            return record_results(
                session, results, suppression_key=self.suppression_key, retry_policy=self.retry
            )

    def release(
        self, batch: ClaimedBatch, error: str, *, not_before: datetime | None = None
    ) -> None:
        with transaction(self.sessions) as session:
            release_batch(session, batch.ids, error, not_before=not_before)

    def extend(self, batch: ClaimedBatch, lease_seconds: float) -> None:
        with transaction(self.sessions) as session:
            extend_lease(session, batch.token, lease_seconds)

    def pause(self, reason: str) -> bool:
        return pause_send(self.sessions, self.issue_id, reason)

    def finish(self) -> Finish:
        with transaction(self.sessions) as session:
            counts = counts_by_status(session, self.issue_id)
            sent_in_all = counts.get(DeliveryStatus.SENT, 0)
            if counts.get(DeliveryStatus.PENDING) or counts.get(DeliveryStatus.SENDING):
                return Finish(finished=False, sent_in_all=sent_in_all)
            # Only a sending issue becomes sent: a pause that came meanwhile stands.
            sources, values = transition_values(Decision.FINISH)
            result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
                update(Issue)
                .where(Issue.id == self.issue_id, Issue.status.in_(sources))
                .values(**values, sent_at=utcnow())
            )
            status = session.scalar(select(Issue.status).where(Issue.id == self.issue_id))
        sent = status is IssueStatus.SENT
        changed = bool(result.rowcount)
        return Finish(
            finished=changed or sent, elsewhere=sent and not changed, sent_in_all=sent_in_all
        )

    def health(self, limits: BreakerThresholds) -> SendHealth:
        with transaction(self.sessions) as session:
            return measure_health(session, self.issue_id, self.read_events, limits)

    def outlook(self) -> Outlook:
        with transaction(self.sessions) as session:
            leased = leased_by_owner(session, self.issue_id)
            looked_at = self.now()
            wave_at, waiting = next_wave(session, self.issue_id, looked_at)
            return Outlook(
                in_flight_elsewhere=sum(
                    count for owner, count in leased.items() if owner != self.liveness.owner
                ),
                retries_pending=retries_waiting(session, self.issue_id),
                next_retry_at=next_retry_at(session, self.issue_id),
                waves_pending=waiting,
                next_wave_at=wave_at,
                looked_at=looked_at,
                claimable=claimable_now(session, self.issue_id, looked_at),
            )

    def dead_lease_holders(self, known: Collection[str]) -> set[str]:
        with transaction(self.sessions) as session:
            suspects = lease_owners(session, self.issue_id) - set(known) - {self.liveness.owner}
            return self.liveness.dead_among(session, suspects)
