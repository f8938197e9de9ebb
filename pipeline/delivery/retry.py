"""The retry policy, in one place: what is retried, how soon, and when to give up.

Three kinds of "try again later", each with its own clock:

1. **A whole request failed** (429, 5xx, a timeout, a dropped connection): the same batch is
   sent again by the same thread after :func:`backoff_delay` — exponential from
   ``PULSE_SEND_BACKOFF_BASE`` up to ``PULSE_SEND_BACKOFF_MAX``, with jitter, never sooner
   than the provider's ``Retry-After`` / ``X-RateLimit-Reset`` hint (capped at
   :data:`MAX_HINT`). After ``PULSE_SEND_RETRIES`` retries the batch goes back to the queue;
   ``PULSE_PAUSE_AFTER_FAILED_BATCHES`` such batches in a row pause the send.
2. **The provider asked everyone to wait** (a 429 with a hint): the wait is recorded in
   ``send_holds`` and every thread of every worker waits it out before its next request
   (ratelimit.py), not only the thread that was told.
3. **One recipient was refused for now** (SMTP 4xx, SES throttling: ``SendStatus.FAILED`` or
   ``UNKNOWN``): that row goes back to the queue with a "not before" time, as an MTA keeps a
   deferred message — :class:`RecipientRetryPolicy`: the first retry after
   ``PULSE_RETRY_FIRST_DELAY`` (60 s), doubling up to ``PULSE_RETRY_MAX_DELAY`` (1 h), until
   the schedule has run ``PULSE_RETRY_GIVE_UP_AFTER`` (24 h: 28 retries) or
   ``PULSE_RETRY_MAX_RETRIES`` (50) retries were made; then the row is ``failed`` with the
   last reason. The schedule counts retries, not wall-clock time, so a
   send paused for a day does not give up on its recipients the moment it resumes.

A run does not sit idle for hours waiting for such retries: when nothing is claimable and the
next retry is further away than ``PULSE_SEND_IDLE_WAIT`` (60 s), the run ends with the issue
still ``sending`` and the retries pending (``pulse issue status`` shows them; the CLI exits 3).
``pulse worker``, the scheduler's periodic re-check or ``pulse issue resume`` send them when due.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

# A provider hint longer than this is taken as this: a millisecond timestamp read as seconds
# must not stall a send for years, and a long wait is better re-asked than slept through.
MAX_HINT = 900.0


def capped_hint(hint: float | None) -> float | None:
    """A provider's wait hint, within ``0 … MAX_HINT`` seconds."""
    if hint is None:
        return None
    return min(max(hint, 0.0), MAX_HINT)


def backoff_delay(
    attempt: int,
    *,
    base: float,
    cap: float,
    hint: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before retry number ``attempt`` (0 for the first retry) of a request.

    Jitter (a uniform draw between half and all of the exponential bound) spreads workers'
    retries apart; a ``Retry-After`` / ``X-RateLimit-Reset`` hint is a floor, since sending
    earlier would only be refused again.
    """
    bound = min(cap, base * (2**attempt))
    delay = (rng or random).uniform(bound / 2, bound)
    hint = capped_hint(hint)
    if hint is not None:
        delay = max(delay, hint)
    return delay


@dataclass(frozen=True)
class RecipientRetryPolicy:
    """When a temporarily refused recipient is tried again, and when they are given up."""

    first_delay: float = 60.0
    max_delay: float = 3600.0
    give_up_after: float = 86_400.0
    max_retries: int = 50  # whichever comes first: the schedule's length or this many retries

    def delay(self, retry: int) -> float:
        """Seconds before retry number ``retry`` (1 for the first)."""
        return float(min(self.max_delay, self.first_delay * 2 ** max(retry - 1, 0)))

    def elapsed(self, retries: int) -> float:
        """How long the schedule has run once ``retries`` retries have been scheduled."""
        return sum(self.delay(n) for n in range(1, retries + 1))

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
