"""The retry policy, in one place: what is retried, how soon, and when to give up.

:class:`RetryPolicy` holds every rule; the engine, the send stores and the provider adapters
(their hint cap) all read it, and the wiring builds it from the ``PULSE_SEND_*`` and
``PULSE_RETRY_*`` settings (``PULSE_SEND_RETRIES`` is ``request_retries``,
``PULSE_PAUSE_AFTER_FAILED_BATCHES`` is ``pause_after_failed_batches``, and so on):

==============================  =============  ==============================  =====================
What happened                   Retried        How soon                        Gives up
==============================  =============  ==============================  =====================
A request failed: 429, 5xx,     the batch, by  ``backoff``: jittered, from     after ``request_
timeout, lost connection        its thread     ``backoff_base`` doubling to    retries``: a failed
                                               ``backoff_max``; never before   batch (see below)
                                               the provider's hint
A ``Retry-After`` /             every sender   the hint, at most ``max_hint``  —
``X-RateLimit-Reset`` hint      waits          (``send_holds``, all workers)
A request refused for some      the others     at once, split until the bad    the bad ones fail;
addresses (``BadRecipient…``)                  ones are alone (isolation.py)   too many: pause
A request refused outright      no             —                               the send pauses
(credentials, endpoint, build)
One recipient refused for now   that row       ``recipient_delay``: from       ``give_up_after`` or
(``FAILED`` / ``UNKNOWN``)                     ``first_delay`` doubling to     ``max_retries``:
                                               ``max_delay`` (``not_before``)  the row fails
One recipient refused for good  no             —                               the row fails
(``INVALID`` / ``REJECTED``)
Failed batches in a row         —              —                               ``pause_after_failed_
                                                                               batches``: pause
==============================  =============  ==============================  =====================

The recipient schedule counts retries, not wall-clock time, so a send paused for a day does
not give up on its recipients the moment it resumes. A run does not sit idle for hours
waiting for such retries: when nothing is claimable and the next retry is further away than
``PULSE_SEND_IDLE_WAIT`` (60 s), the run ends with the issue still ``sending`` and the retries
pending (``pulse issue status`` shows them; the CLI exits 3). ``pulse worker``, the
scheduler's periodic re-check or ``pulse issue resume`` send them when due.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from pipeline.delivery.models import DeliveryStatus
from pipeline.delivery.providers.base import SendResult

# A provider hint longer than this is taken as this: a millisecond timestamp read as seconds
# must not stall a send for years, and a long wait is better re-asked than slept through.
MAX_HINT = 900.0


def capped_hint(hint: float | None) -> float | None:
    """A provider's wait hint, within ``0 … MAX_HINT`` seconds."""
    if hint is None:
        return None
    return min(max(hint, 0.0), MAX_HINT)


@dataclass(frozen=True)
class RowOutcome:
    """What becomes of one refused recipient's row (see :meth:`RetryPolicy.after_refusal`)."""

    status: DeliveryStatus  # FAILED, or PENDING to be tried again
    error: str | None
    retries: int  # temporary refusals so far, this one included
    not_before: datetime | None = None  # when a PENDING row may be claimed again


@dataclass(frozen=True)
class RetryPolicy:
    """Every retry rule of a send (the table in this module's docstring)."""

    # Whole requests (PULSE_SEND_RETRIES, PULSE_SEND_BACKOFF_BASE / _MAX)
    request_retries: int = 5
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    max_hint: float = MAX_HINT
    pause_after_failed_batches: int = 3  # PULSE_PAUSE_AFTER_FAILED_BATCHES
    # One recipient refused for now (PULSE_RETRY_*)
    first_delay: float = 60.0
    max_delay: float = 3600.0
    give_up_after: float = 86_400.0
    max_retries: int = 50  # whichever comes first: the schedule's length or this many retries

    # Whole requests ---------------------------------------------------------------------

    def retries_request(self, attempt: int) -> bool:
        """Whether a request that failed on try ``attempt`` (0 for the first) is tried again."""
        return attempt < self.request_retries

    def backoff(
        self, attempt: int, hint: float | None = None, rng: random.Random | None = None
    ) -> float:
        """Seconds to wait before retry number ``attempt`` (0 for the first) of a request.

        Jitter (a uniform draw between half and all of the exponential bound) spreads workers'
        retries apart; a ``Retry-After`` / ``X-RateLimit-Reset`` hint is a floor, since sending
        earlier would only be refused again.
        """
        bound = min(self.backoff_max, self.backoff_base * (2**attempt))
        delay = (rng or random).uniform(bound / 2, bound)
        if hint is not None:
            delay = max(delay, min(max(hint, 0.0), self.max_hint))
        return delay

    def pauses_after(self, failed_in_a_row: int) -> bool:
        """Whether this many failed batches in a row pause the send."""
        return failed_in_a_row >= self.pause_after_failed_batches

    # One recipient refused for now -----------------------------------------------------

    def recipient_delay(self, retry: int) -> float:
        """Seconds before a recipient's retry number ``retry`` (1 for the first)."""
        return float(min(self.max_delay, self.first_delay * 2 ** max(retry - 1, 0)))

    def elapsed(self, retries: int) -> float:
        """How long the schedule has run once ``retries`` retries have been scheduled."""
        return sum(self.recipient_delay(n) for n in range(1, retries + 1))

    def gives_up(self, failures: int) -> bool:
        """After ``failures`` temporary refusals, whether to fail the recipient for good.

        Retry number ``failures`` is scheduled unless it would take the schedule past
        ``give_up_after`` or be more than ``max_retries`` retries.
        """
        return failures > self.max_retries or self.elapsed(failures) > self.give_up_after

    @property
    def retries_allowed(self) -> int:
        """How many retries a recipient gets before being given up."""
        failures = 1
        while not self.gives_up(failures):
            failures += 1
        return failures - 1

    def after_refusal(self, result: SendResult, retries_so_far: int, now: datetime) -> RowOutcome:
        """What a refused recipient's row becomes: failed for good, or pending until a time.

        Every send store applies this one decision, so SQL and memory agree on it.
        """
        failures = retries_so_far + 1
        if result.status.permanent:
            return RowOutcome(DeliveryStatus.FAILED, result.error, retries_so_far)
        if self.gives_up(failures):
            error = f"gave up after {failures} temporary refusals: {result.error}"
            return RowOutcome(DeliveryStatus.FAILED, error, retries_so_far)
        not_before = now + timedelta(seconds=self.recipient_delay(failures))
        return RowOutcome(DeliveryStatus.PENDING, result.error, failures, not_before)
