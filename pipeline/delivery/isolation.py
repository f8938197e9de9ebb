"""Finding the addresses that made a provider refuse a whole request, and sending the rest.

Resend (strict mode), SendGrid and Mailgun refuse a whole call for one invalid address;
sending the same batch again would be refused again, and the send would stall on it. Where
the provider names the culprits (:attr:`BadRecipientInBatch.delivery_ids`) they are recorded
invalid with the provider's reason and the others re-sent; where it does not, the batch is
split in halves until each refused address stands alone. The suspects are recorded only
once some other part of the batch was accepted (proof that the request itself is fine) and
when they are few: a request refused whatever it holds is not about addresses at all, and
the send pauses with nobody failed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from pipeline.delivery.message import Batch, Recipient
from pipeline.delivery.providers.base import PreparedBatch, Provider, SendResult, SendStatus
from pipeline.delivery.providers.errors import BadRecipientInBatch, ProviderError

log = logging.getLogger(__name__)

Deliver = Callable[[PreparedBatch], "list[SendResult] | None"]
Record = Callable[[Sequence[SendResult]], object]  # what it returns is not used


@dataclass
class Budget:
    """One batch's search: the addresses suspected so far and whether anything got through."""

    size: int
    suspects: list[SendResult] = field(default_factory=list)
    accepted: int = 0

    def suspect(self, results: Sequence[SendResult]) -> bool:
        """Add suspects; False when there are more than a batch plausibly holds."""
        self.suspects += results
        return len(self.suspects) <= max(3, self.size // 10)

    @property
    def convincing(self) -> bool:
        """The provider took other parts of the batch, so the request itself is fine."""
        return self.accepted > 0 or self.size == 1


@dataclass
class Isolation:
    """One batch's search; ``deliver`` is the engine's own send-with-retries for a part."""

    provider: Provider
    deliver: Deliver
    record: Record
    give_up: Callable[[BadRecipientInBatch], None]  # release the rest and pause

    def resolve(self, prepared: PreparedBatch, err: BadRecipientInBatch) -> list[SendResult] | None:
        """Isolate the bad addresses of ``prepared``; the results left to record, or None."""
        budget = Budget(len(prepared.batch.recipients))
        results = self.run(prepared, err, budget)
        if results is None:
            return None
        if budget.suspects and not budget.convincing:
            self.give_up(err)
            return None
        for suspect in budget.suspects:
            log.warning(
                "%s refused delivery %d: %s", err.provider, suspect.delivery_id, suspect.error
            )
        return [*budget.suspects, *results]

    def run(
        self, prepared: PreparedBatch, err: BadRecipientInBatch, budget: Budget
    ) -> list[SendResult] | None:
        """Results still to record (the rest is recorded on the way); None: given up."""
        batch = prepared.batch
        present = {r.delivery_id for r in batch.recipients}
        named = [i for i in err.delivery_ids if i in present]
        if named or len(batch.recipients) == 1:
            bad = named or [batch.recipients[0].delivery_id]
            reason = f"{err.provider}: {err.reason}"
            if not budget.suspect([SendResult(i, SendStatus.INVALID, error=reason) for i in bad]):
                self.give_up(err)
                return None
            rest = [r for r in batch.recipients if r.delivery_id not in bad]
            return self._part(batch, rest, budget) if rest else []
        half = len(batch.recipients) // 2
        for part in (batch.recipients[:half], batch.recipients[half:]):
            results = self._part(batch, part, budget)
            if results is None:
                return None
            self.record(results)
        return []

    def _part(
        self, batch: Batch, part: Sequence[Recipient], budget: Budget
    ) -> list[SendResult] | None:
        prepared = self.provider.prepare(replace(batch, recipients=list(part)))
        try:
            results = self.provider.send_prepared(prepared)
        except BadRecipientInBatch as err:
            self.record(err.partial)
            budget.accepted += sum(r.status.accepted for r in err.partial)
            decided = {r.delivery_id for r in err.partial}
            rest = [r for r in prepared.batch.recipients if r.delivery_id not in decided]
            if not rest:
                return []
            again = self.provider.prepare(replace(prepared.batch, recipients=rest))
            return self.run(again, err, budget)
        except ProviderError:
            # Anything else: the ordinary retry and pause rules, for this part alone.
            retried = self.deliver(prepared)
            budget.accepted += sum(r.status.accepted for r in retried or [])
            return retried
        budget.accepted += sum(r.status.accepted for r in results)
        return results
