"""A send store and a pacer in memory, so the engine's decisions are tested without a database.

The store keeps the outbox's rules that matter to the engine: rows advance only on the
provider's answer, a batch left behind is handed out again whole, rows set aside wait for
their ``not_before``, and refused recipients follow the same :class:`RetryPolicy` decision as
the SQL store. Every call is logged (``calls``), so tests can check what happened in order.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pipeline.delivery.breaker import BreakerThresholds, SendHealth
from pipeline.delivery.models import DeliveryStatus
from pipeline.delivery.providers.base import SendResult
from pipeline.delivery.retry import RetryPolicy
from pipeline.delivery.store import (
    Claim,
    ClaimedBatch,
    ClaimedDelivery,
    Finish,
    IssueState,
    Outlook,
)
from pulse_core.database import utcnow


@dataclass
class MemoryRow:
    """One delivery row, as the ``deliveries`` table holds it."""

    delivery_id: int
    email: str
    status: DeliveryStatus = DeliveryStatus.PENDING
    mailable: bool = True  # False: the subscriber left (the claim skips them)
    token: str | None = None
    owner: str | None = None
    lease_until: datetime | None = None
    not_before: datetime | None = None
    retries: int = 0
    attempts: int = 0
    last_error: str | None = None


class MemorySendStore:
    """One issue's outbox in a dict; thread-safe like the database is."""

    def __init__(
        self,
        emails: Sequence[str],
        *,
        owner: str = "memory:1:1",
        retry: RetryPolicy | None = None,
    ) -> None:
        self.rows = {n: MemoryRow(n, email) for n, email in enumerate(emails, start=1)}
        self.owner = owner
        self.retry = retry or RetryPolicy()
        self.sending = True
        self.paused_reason: str | None = None
        self.sent_issue = False
        self.hard_bounces = 0
        self.complaints = 0
        self.dead: set[str] = set()
        # Rows another sender's claim holds locked, not yet committed: claims pass them by
        # (SKIP LOCKED), everyone else still sees them pending.
        self.locked: set[int] = set()
        self.calls: list[tuple[str, object]] = []
        self.lock = threading.Lock()

    # What tests read ----------------------------------------------------------------

    def by_status(self) -> Counter[DeliveryStatus]:
        return Counter(row.status for row in self.rows.values())

    def calls_named(self, name: str) -> list[object]:
        return [detail for called, detail in self.calls if called == name]

    # The SendStore protocol -----------------------------------------------------------

    def issue_state(self) -> IssueState:
        with self.lock:
            return IssueState(self.sending, None if self.sending else self.paused_reason)

    def claim(
        self, limit: int, *, lease_seconds: float, dead_owners: Collection[str]
    ) -> Claim | None:
        now = utcnow()
        lease = now + timedelta(seconds=lease_seconds)
        with self.lock:
            left = [
                row
                for row in self.rows.values()
                if row.status is DeliveryStatus.SENDING
                and (row.lease_until is None or row.lease_until < now or row.owner in dead_owners)
            ]
            if left:
                token = left[0].token
                rows = [r for r in self.rows.values() if r.token == token]
                replay = True
            else:
                due = [
                    row
                    for row in self.rows.values()
                    if row.status is DeliveryStatus.PENDING
                    and (row.not_before is None or row.not_before <= now)
                    and row.delivery_id not in self.locked
                ][:limit]
                if not due:
                    return None
                for row in due:
                    if not row.mailable:
                        row.status, row.last_error = DeliveryStatus.SKIPPED, "subscriber left"
                rows = [row for row in due if row.mailable]
                token, replay = uuid.uuid4().hex, False
            for row in rows:
                row.status, row.token, row.owner = DeliveryStatus.SENDING, token, self.owner
                row.lease_until, row.not_before = lease, None
                row.attempts += 1
            batch = ClaimedBatch(
                token or "",
                [ClaimedDelivery(r.delivery_id, r.delivery_id, r.email, None) for r in rows],
                replay,
            )
            self.calls.append(("claim", batch.ids))
            return Claim(batch)

    def record(self, results: Sequence[SendResult]) -> Counter[str]:
        now = utcnow()
        outcome: Counter[str] = Counter()
        with self.lock:
            self.calls.append(("record", [(r.delivery_id, r.status.value) for r in results]))
            for result in results:
                row = self.rows[result.delivery_id]
                if row.status is not DeliveryStatus.SENDING:
                    continue
                row.lease_until = row.owner = None
                if result.status.accepted:
                    row.status, row.last_error = DeliveryStatus.SENT, None
                    outcome["sent"] += 1
                    continue
                decided = self.retry.after_refusal(result, row.retries, now)
                row.status, row.last_error = decided.status, decided.error
                row.retries, row.not_before = decided.retries, decided.not_before
                outcome["retry" if decided.status is DeliveryStatus.PENDING else "failed"] += 1
        return outcome

    def release(
        self, batch: ClaimedBatch, error: str, *, not_before: datetime | None = None
    ) -> None:
        with self.lock:
            self.calls.append(("release", (batch.ids, error, not_before)))
            for delivery_id in batch.ids:
                row = self.rows[delivery_id]
                if row.status is DeliveryStatus.SENDING:
                    row.status, row.last_error, row.not_before = (
                        DeliveryStatus.PENDING,
                        error,
                        not_before,
                    )
                    row.token = row.owner = row.lease_until = None

    def extend(self, batch: ClaimedBatch, lease_seconds: float) -> None:
        with self.lock:
            self.calls.append(("extend", (batch.ids, lease_seconds)))
            for row in self.rows.values():
                if row.token == batch.token and row.status is DeliveryStatus.SENDING:
                    row.lease_until = utcnow() + timedelta(seconds=lease_seconds)

    def pause(self, reason: str) -> bool:
        with self.lock:
            self.calls.append(("pause", reason))
            if not self.sending:
                return False
            self.sending, self.paused_reason = False, reason
            return True

    def finish(self) -> Finish:
        with self.lock:
            open_ = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)
            sent = sum(row.status is DeliveryStatus.SENT for row in self.rows.values())
            if any(row.status in open_ for row in self.rows.values()):
                return Finish(False, sent_in_all=sent)
            if self.sending:
                self.sending, self.sent_issue = False, True
                return Finish(True, sent_in_all=sent)
            return Finish(self.sent_issue, elsewhere=self.sent_issue, sent_in_all=sent)

    def health(self, limits: BreakerThresholds) -> SendHealth:
        with self.lock:
            sent = sum(row.status is DeliveryStatus.SENT for row in self.rows.values())
            return SendHealth(sent, self.hard_bounces, self.complaints)

    def outlook(self) -> Outlook:
        now = utcnow()
        with self.lock:
            rows = list(self.rows.values())
        waiting = [
            r.not_before
            for r in rows
            if r.status is DeliveryStatus.PENDING and r.not_before is not None
        ]
        return Outlook(
            in_flight_elsewhere=sum(
                r.status is DeliveryStatus.SENDING and r.owner != self.owner for r in rows
            ),
            retries_pending=sum(when > now for when in waiting),
            next_retry_at=min(waiting, default=None),
            claimable=any(
                r.status is DeliveryStatus.PENDING and (r.not_before is None or r.not_before <= now)
                for r in rows
            ),
        )

    def dead_lease_holders(self, known: Collection[str]) -> set[str]:
        with self.lock:
            holders = {r.owner for r in self.rows.values() if r.status is DeliveryStatus.SENDING}
        return {owner for owner in holders if owner in self.dead} - set(known)


class MemoryPacer:
    """No rate cap; providers' holds are noted (and end at once: the test clock does not run)."""

    enabled = False

    def __init__(self) -> None:
        self.holds: list[tuple[float, str]] = []

    def wait_turn(self, count: int, stop: Callable[[], bool]) -> bool:
        return not stop()

    def wait_out_holds(self, stop: Callable[[], bool]) -> bool:
        return not stop()

    def hold(self, seconds: float, reason: str) -> float:
        self.holds.append((seconds, reason))
        return seconds

    def holding_here(self) -> bool:
        return False
