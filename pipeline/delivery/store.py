"""The send store: the few operations the send engine needs from wherever the outbox lives.

After listmonk's ``Store`` (``NextSubscribers(campID, limit)``): the engine (engine.py) makes
every decision — when to retry, pause, trip the breaker, isolate a bad address — and asks
the store only to claim, record, release, extend, pause, finish and report health. One
implementation is the database (sql_store.py, SKIP LOCKED claims on PostgreSQL); tests use
one in memory, so the engine's decisions are checked in milliseconds without a database.

A store is bound to one issue and one sender (the liveness owner it writes on the rows it
leases). Rows advance only on the provider's answer (:meth:`SendStore.record`): a claimed
batch that is never recorded is released or reclaimed, never skipped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from pipeline.delivery.breaker import BreakerThresholds, SendHealth
from pipeline.delivery.providers.base import SendResult


@dataclass(frozen=True)
class ClaimedDelivery:
    """A leased row with what is needed to address the message."""

    delivery_id: int
    subscriber_id: int
    email: str
    first_name: str | None
    # The reader's referral code, for the footer's personal referral link.
    referral_code: str | None = None
    variant: str | None = None  # the tailored variant's key (deliveries.variant); None: default


@dataclass(frozen=True)
class ClaimedBatch:
    """Rows leased together under one claim token."""

    token: str
    rows: list[ClaimedDelivery]
    replay: bool = False  # handed out again: its process died, or its lease ran out

    @property
    def ids(self) -> list[int]:
        return [row.delivery_id for row in self.rows]


@dataclass(frozen=True)
class Claim:
    """A claimed batch, and whether a provider's hold was in force when it was claimed."""

    batch: ClaimedBatch
    held: bool = False


@dataclass(frozen=True)
class IssueState:
    """Whether the issue is still sending; if it was paused, why."""

    sending: bool
    paused_reason: str | None = None


@dataclass(frozen=True)
class Finish:
    """The end of a run: whether the issue is now sent, whether another process did it, and
    how many of its messages are sent by now, by every process (None: not counted)."""

    finished: bool
    elsewhere: bool = False
    sent_in_all: int | None = None


@dataclass(frozen=True)
class Outlook:
    """What is left that this sender cannot claim now."""

    in_flight_elsewhere: int  # rows other processes hold leased
    retries_pending: int  # rows set aside after a temporary refusal, not due yet
    next_retry_at: datetime | None  # when the earliest of them comes due
    waves_pending: int = 0  # rows waiting for their local-time wave (waves.py)
    next_wave_at: datetime | None = None  # when the next wave is due
    looked_at: datetime | None = None  # the store's clock when it looked (None: the clock)
    # Rows due now that this sender's claim did not get: another sender's claim is taking
    # them (SKIP LOCKED passed them by), or a batch came back just after the claim.
    claimable: bool = False


class SendStore(Protocol):
    """The outbox of one issue, as seen by one sender."""

    def issue_state(self) -> IssueState:
        """Whether the issue is still sending (an operator or another sender may pause it)."""

    def claim(
        self, limit: int, *, lease_seconds: float, dead_owners: Collection[str]
    ) -> Claim | None:
        """Lease the next batch (first one left behind by a dead or stalled sender, whole).

        None when nothing is claimable now; an empty batch when every row of the slice
        turned out to belong to people who left (they are skipped; claim again).
        """

    def record(self, results: Sequence[SendResult]) -> Counter[str]:
        """Apply the provider's per-recipient answers (even part of a batch); counts by outcome.

        Accepted rows become sent; refused ones failed or pending again, as the retry policy
        decides (:meth:`pipeline.delivery.retry.RetryPolicy.after_refusal`).
        """

    def release(
        self, batch: ClaimedBatch, error: str, *, not_before: datetime | None = None
    ) -> None:
        """Give the undecided rows of a batch back to the queue, not claimable before a time."""

    def extend(self, batch: ClaimedBatch, lease_seconds: float) -> None:
        """Keep a batch leased while its sender waits (a backoff, a cap, a provider's hold)."""

    def pause(self, reason: str) -> bool:
        """Pause the issue's send with a reason; False if it was not sending."""

    def finish(self) -> Finish:
        """Mark the issue sent if nothing is left unfinished."""

    def health(self, limits: BreakerThresholds) -> SendHealth:
        """Messages sent so far, and deliveries that hard-bounced or drew a complaint.

        Sent messages may be counted only as far as ``limits`` make them matter (a large
        send's count is costly): the breaker's judgement is the same either way.
        """

    def outlook(self) -> Outlook:
        """What is left that cannot be claimed now (others' leases, retries not yet due)."""

    def dead_lease_holders(self, known: Collection[str]) -> set[str]:
        """Senders holding this issue's leases that are now known dead, beyond ``known``."""


class Pacer(Protocol):
    """The shared rate cap and providers' holds (ratelimit.py's :class:`SendRateLimiter`)."""

    @property
    def enabled(self) -> bool:
        """Whether any cap is configured (holds apply either way)."""

    def wait_turn(self, count: int, stop: Callable[[], bool]) -> bool:
        """Block until ``count`` messages may go out (caps and holds); False if stopped."""

    def wait_out_holds(self, stop: Callable[[], bool]) -> bool:
        """Block while a provider's hold is in force; False if stopped."""

    def hold(self, seconds: float, reason: str) -> float:
        """Make every sender wait ``seconds`` from now."""

    def holding_here(self) -> bool:
        """Whether a hold this process set is in force; free to ask (no database read)."""
