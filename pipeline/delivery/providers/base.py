"""The provider interface, its status vocabulary, capabilities and the one send flow.

Each adapter turns a :class:`Batch` into one or more API calls and reports one
:class:`SendResult` per recipient. The flow is fixed here, after django-anymail's base
backend: :meth:`Provider.prepare` screens the recipients (an address this provider cannot
take is decided at once) and builds the payload; :meth:`Provider.send_prepared` delivers
it and, when the provider fails part-way, raises with every result already decided
(``ProviderError.partial``), so nobody the provider accepted is sent again. Provider quirks
stay inside the adapter's module.
"""

from __future__ import annotations

import enum
from abc import ABC
from dataclasses import dataclass, replace

from pipeline.delivery.message import Batch, Recipient
from pipeline.delivery.providers.errors import ProviderError


class SendStatus(enum.StrEnum):
    """One vocabulary for every provider (after django-anymail)."""

    SENT = "sent"  # accepted and handed on
    QUEUED = "queued"  # accepted, delivery later
    INVALID = "invalid"  # the address or message is invalid: never retry
    REJECTED = "rejected"  # the provider refuses this recipient (suppressed, inactive)
    FAILED = "failed"  # not sent this time; worth retrying
    UNKNOWN = "unknown"  # the provider said something we do not understand

    @property
    def accepted(self) -> bool:
        """The provider took responsibility for the message."""
        return self in (SendStatus.SENT, SendStatus.QUEUED)

    @property
    def permanent(self) -> bool:
        """Retrying will not change the outcome."""
        return self in (SendStatus.INVALID, SendStatus.REJECTED)


@dataclass(frozen=True)
class SendResult:
    """What the provider said about one recipient of a batch."""

    delivery_id: int
    status: SendStatus
    provider_message_id: str | None = None
    error: str | None = None
    raw: str | None = None
    suppress: bool = False  # the provider says this address must not be mailed again


@dataclass(frozen=True)
class Capabilities:
    """What an adapter can do, so the engine can size batches and trust retries."""

    max_batch: int
    idempotency_key: bool = False
    server_side_merge: bool = False
    default_rate: float | None = None  # messages per second when PULSE_SEND_RATE is unset
    max_bytes: int | None = None  # the provider's documented limit for one request body


@dataclass(frozen=True)
class PreparedBatch:
    """A batch with its request already built (``payload`` is the adapter's own business).

    ``batch`` holds the recipients still to send; ``refused`` the ones decided before any
    call (an address this provider cannot take), reported with the provider's answers.
    """

    batch: Batch
    payload: object = None
    refused: tuple[SendResult, ...] = ()


class Provider(ABC):
    """Sends batches of one issue (or single transactional messages)."""

    name: str
    capabilities: Capabilities

    def refuse(self, recipient: Recipient) -> str | None:
        """Why this provider cannot take ``recipient`` at all (None: it can).

        A quirk hook: e.g. SES takes only ASCII local parts, SMTP without SMTPUTF8 likewise.
        """
        return None

    def build(self, batch: Batch) -> object:
        """The adapter's payload for ``batch`` (every recipient in it is sendable)."""
        return None

    def deliver(self, prepared: PreparedBatch) -> list[SendResult]:
        """Send the prepared payload; one result per recipient of ``prepared.batch``.

        Raise a ProviderError for a whole-call failure, with ``partial`` holding what this
        call had already decided. An adapter that implements only :meth:`send_batch` (a
        small local or test adapter) is handed the batch itself.
        """
        if type(self).send_batch is Provider.send_batch:
            raise NotImplementedError(
                f"{type(self).__name__} implements neither deliver nor send_batch"
            )
        return self.send_batch(prepared.batch)

    def prepare(self, batch: Batch) -> PreparedBatch:
        """Build the request ahead of sending it.

        The engine prepares a batch before it waits for the rate cap, so the request leaves
        right when the cap allows it, and a retry re-sends the same bytes.
        """
        refused: list[SendResult] = []
        kept: list[Recipient] = []
        for recipient in batch.recipients:
            reason = self.refuse(recipient)
            if reason is None:
                kept.append(recipient)
            else:
                refused.append(SendResult(recipient.delivery_id, SendStatus.INVALID, error=reason))
        sendable = batch if not refused else replace(batch, recipients=kept)
        payload = self.build(sendable) if kept else None
        return PreparedBatch(sendable, payload, tuple(refused))

    def send_prepared(self, prepared: PreparedBatch) -> list[SendResult]:
        """Send a batch made by :meth:`prepare`: the refused ones, then the provider's answers."""
        decided = list(prepared.refused)
        if not prepared.batch.recipients:
            return decided
        try:
            decided += self.deliver(prepared)
        except ProviderError as err:
            err.with_partial(decided)
            raise
        return decided

    def send_batch(self, batch: Batch) -> list[SendResult]:
        """Send every recipient of ``batch``; raise a ProviderError for a whole-call failure."""
        return self.send_prepared(self.prepare(batch))

    def close(self) -> None:  # noqa: B027 - optional hook, most adapters hold nothing
        """Release connections."""
