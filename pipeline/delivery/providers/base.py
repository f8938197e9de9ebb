"""The provider interface, its status vocabulary and capabilities.

Each adapter turns a :class:`Batch` into one or more API calls and reports one
:class:`SendResult` per recipient. Provider quirks stay inside the adapter's module.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass

from pipeline.delivery.message import Batch


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


@dataclass(frozen=True)
class PreparedBatch:
    """A batch with its request already built (``payload`` is the adapter's own business)."""

    batch: Batch
    payload: object = None


class Provider(ABC):
    """Sends batches of one issue (or single transactional messages)."""

    name: str
    capabilities: Capabilities

    @abstractmethod
    def send_batch(self, batch: Batch) -> list[SendResult]:
        """Send every recipient of ``batch``; raise a ProviderError for a whole-call failure."""

    def prepare(self, batch: Batch) -> PreparedBatch:
        """Build the request ahead of sending it.

        The engine prepares a batch before it waits for the rate cap, so the request leaves
        right when the cap allows it, and a retry re-sends the same bytes.
        """
        return PreparedBatch(batch)

    def send_prepared(self, prepared: PreparedBatch) -> list[SendResult]:
        """Send a batch made by :meth:`prepare` (by default: just send the batch)."""
        return self.send_batch(prepared.batch)

    def close(self) -> None:  # noqa: B027 - optional hook, most adapters hold nothing
        """Release connections."""
