"""How a send run sends (:class:`SendOptions`), and the seams it is handed.

The wiring builds the options from settings (``pipeline.stage_configs.send_options``); the engine
and the send stores read nothing else, so delivery never sees ``Settings``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from pipeline.delivery.breaker import BreakerThresholds
from pipeline.delivery.message import Batch
from pipeline.delivery.ratelimit import Window
from pipeline.delivery.retry import RetryPolicy
from pipeline.delivery.sql_store import ReadEventFigures, no_event_figures
from pipeline.delivery.store import ClaimedDelivery

BREAKER_INTERVAL = 1.0  # seconds between circuit-breaker checks per run
PROBE_INTERVAL = 1.0  # seconds between looks for senders that died holding leases


@dataclass(frozen=True)
class SendOptions:
    """How a run sends: batch sizes, concurrency, retries, caps and the breaker."""

    batch_size: int = 500
    concurrency: int = 1
    lease_seconds: float = 300.0
    rate_windows: Sequence[Window] = ()
    per_second: float | None = None
    breaker: BreakerThresholds = field(default_factory=BreakerThresholds)
    breaker_interval: float = BREAKER_INTERVAL  # seconds between checks (the query counts rows)
    suppression_key: str | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    idle_wait: float = 60.0  # how long a run waits for retries or others' batches to come due
    probe_interval: float = PROBE_INTERVAL
    # The breaker's bounce and complaint counts, from the events side (the wiring passes
    # pipeline.events.send_health.event_figures; delivery does not import events).
    read_events: ReadEventFigures = no_event_figures


class BatchComposer(Protocol):
    """Turns claimed rows into a batch to send (compose.py's :class:`IssueMailer`)."""

    def batch(self, rows: Sequence[ClaimedDelivery]) -> Batch:
        """The batch for ``rows``, one recipient each."""


# Waits ``seconds`` unless the event is set first; returns whether it was (Event.wait).
Wait = Callable[[threading.Event, float], bool]
