"""One claimed batch's way to the provider: compose, pace, send, retry, isolate, keep partials.

The run (engine.py) claims batches and makes the run-wide decisions (pause after failed
batches, the breaker, when to stop); :class:`BatchSender` takes one batch from there to the
provider's answer, as the retry policy (retry.py) says. Whatever the provider decided before
an error is recorded before the error is handled, so nobody it accepted is sent again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from pipeline import metrics
from pipeline.delivery.isolation import Isolation
from pipeline.delivery.options import BatchComposer, SendOptions, Wait
from pipeline.delivery.providers.base import PreparedBatch, Provider, SendResult
from pipeline.delivery.providers.errors import (
    BadRecipientInBatch,
    PermanentProviderError,
    ProviderError,
    TransientProviderError,
)
from pipeline.delivery.retry import RetryPolicy
from pipeline.delivery.store import Claim, ClaimedBatch, Pacer, SendStore
from pipeline.errors import PulseError
from pulse_core.database import utcnow

log = logging.getLogger(__name__)


@dataclass
class BatchSender:
    """Sends claimed batches for one run; the run's own decisions come in as callbacks."""

    store: SendStore
    pacer: Pacer
    provider: Provider
    composer: BatchComposer
    options: SendOptions
    stop: threading.Event
    wait: Wait
    record: Callable[[Sequence[SendResult]], Counter[str]]  # results, recorded at once
    pause: Callable[[str], None]  # pause the send with a reason
    batch_failed: Callable[[ClaimedBatch, PulseError], None]  # retries ran out

    @property
    def retry(self) -> RetryPolicy:
        return self.options.retry

    def send(self, claim: Claim) -> list[SendResult] | None:
        """Send with retries; None when the batch went back to the queue (or the send paused)."""
        batch = self.composer.batch(claim.batch.rows)
        try:
            prepared = self.provider.prepare(batch)
        except PulseError as err:  # e.g. a header value the checks refuse
            metrics.provider_error(self.provider.name, "prepare")
            self.store.release(claim.batch, str(err))
            self.pause(f"a batch could not be built: {err}")
            return None
        if not self._wait_for_rate(claim):
            self.store.release(claim.batch, "the send was stopped")
            return None
        if claim.batch.replay:
            log.info(
                "re-sending batch of %d left in flight by a stopped worker", len(batch.recipients)
            )
        return self._deliver(claim.batch, prepared)

    def _wait_for_rate(self, claim: Claim) -> bool:
        """Hold a composed batch until the shared rate cap and holds let it go; False if stopped.

        Reserving just before the request (not before the claim) keeps composing time out
        of the window, so releases reach the provider as evenly as they were granted. The
        lease is extended while an hourly or daily cap (or a provider's hold) makes the
        batch wait long.
        """
        with metrics.rate_limit_wait():
            if self.pacer.enabled:
                count = len(claim.batch.rows)
                return self.pacer.wait_turn(count, self._stop_or_extend(claim.batch))
            if not claim.held and not self.pacer.holding_here():
                return True
            return self.pacer.wait_out_holds(self._stop_or_extend(claim.batch))

    def _stop_or_extend(self, batch: ClaimedBatch) -> Callable[[], bool]:
        waited_since = time.monotonic()

        def stop_or_extend() -> bool:
            nonlocal waited_since
            if time.monotonic() - waited_since > self.options.lease_seconds / 3:
                waited_since = time.monotonic()
                self.store.extend(batch, self.options.lease_seconds)
            return self.stop.is_set()

        return stop_or_extend

    def _deliver(self, claimed: ClaimedBatch, prepared: PreparedBatch) -> list[SendResult] | None:
        """Send one prepared batch with retries; None when it went back to the queue (or paused).

        Whatever the provider decided before failing (``err.partial``) is recorded at once,
        so it is never sent again; only the undecided rest is retried, isolated or released.
        """
        attempt = 0
        while True:
            try:
                with metrics.batch_timer(self.provider.name):
                    return self.provider.send_prepared(prepared)
            except TransientProviderError as err:
                rest = self._keep_decided(prepared, err)
                if rest is None:
                    return []
                prepared = rest
                metrics.provider_error(self.provider.name, "transient")
                if self.stop.is_set():  # the send is stopping: not this batch's failure
                    self.store.release(claimed, str(err), not_before=self._hinted(err))
                    return None
                if not self.retry.retries_request(attempt):
                    self.batch_failed(claimed, err)
                    return None
                if not self._back_off(claimed, err, attempt):
                    return None
                attempt += 1
            except BadRecipientInBatch as err:
                rest = self._keep_decided(prepared, err)
                if rest is None:
                    return []

                def give_up(err: BadRecipientInBatch) -> None:
                    self.store.release(claimed, str(err))
                    self.pause(f"the provider refused too many addresses in one batch: {err}")

                isolation = Isolation(
                    self.provider,
                    lambda part: self._deliver(claimed, part),
                    self.record,
                    give_up,
                )
                return isolation.resolve(rest, err)
            except (PermanentProviderError, PulseError) as err:
                metrics.provider_error(self.provider.name, "permanent")
                # Retrying will not help, and sending more would only burn the list.
                if isinstance(err, ProviderError):
                    self._keep_decided(prepared, err)
                self.store.release(claimed, str(err))
                self.pause(f"the provider refused a batch: {err}")
                return None

    def _back_off(self, claimed: ClaimedBatch, err: TransientProviderError, attempt: int) -> bool:
        """Wait before retrying a request; False when the batch went back to the queue."""
        delay = self.retry.backoff(attempt, hint=err.retry_after)
        log.warning("%s; retrying in %.1fs", err, delay)
        if err.retry_after is not None or err.status_code == 429:
            # The provider is pacing the account, not this thread: everyone waits.
            self.pacer.hold(delay, str(err))
        if delay > self.options.lease_seconds / 3:
            self.store.extend(claimed, delay + self.options.lease_seconds)
        due = utcnow() + timedelta(seconds=delay)
        if self.wait(self.stop, delay) or not self.pacer.wait_out_holds(
            self._stop_or_extend(claimed)
        ):
            # Stopped while waiting: whoever takes the batch up still honours the provider.
            self.store.release(claimed, str(err), not_before=due if err.retry_after else None)
            return False
        return True

    def _hinted(self, err: TransientProviderError) -> datetime | None:
        """When the provider said a retry may come (its ``Retry-After``), if it said."""
        if err.retry_after is None:
            return None
        return utcnow() + timedelta(seconds=min(err.retry_after, self.retry.max_hint))

    def _keep_decided(self, prepared: PreparedBatch, err: ProviderError) -> PreparedBatch | None:
        """Record what the provider decided before ``err``; the rest, prepared (None: no rest)."""
        if not err.partial:
            return prepared
        self.record(err.partial)
        decided = {result.delivery_id for result in err.partial}
        rest = [r for r in prepared.batch.recipients if r.delivery_id not in decided]
        if not rest:
            return None
        return self.provider.prepare(replace(prepared.batch, recipients=rest))
