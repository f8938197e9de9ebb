"""Prometheus metrics: every definition in one place, one-line helpers for the code that counts.

Two kinds of numbers:

* **Process counters** (messages, batches, provider errors, rate-limit waits, webhook events,
  scheduler jobs) live in the process that did the work, in prometheus_client's default
  registry: scrape each ``pulse serve``, ``pulse worker --metrics-port`` and
  ``pulse scheduler --metrics-port`` and let Prometheus add them up. They are defined here,
  a leaf every stage may import.
* **Database gauges** (progress of the current issue, its bounce and complaint rates,
  subscribers by status, signups, confirmations and unsubscribes) are read from the database at
  scrape time by :mod:`pipeline.gauges`, so every process tells the same truth however many
  share the database.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from prometheus_client import Counter, Histogram

__all__ = [
    "batch_timer",
    "provider_error",
    "rate_limit_wait",
    "record_outcome",
    "scheduler_job",
    "webhook_events",
    "webhook_refused",
]

# --- process counters ------------------------------------------------------------------------

MESSAGES_SENT = Counter(
    "pulse_messages_sent_total", "Messages the provider accepted.", ["provider"]
)
MESSAGES_FAILED = Counter(
    "pulse_messages_failed_total", "Messages the provider refused for good.", ["provider"]
)
MESSAGES_RETRIED = Counter(
    "pulse_messages_retried_total", "Messages put back in the queue to try again.", ["provider"]
)
BATCHES = Counter("pulse_batches_total", "Batches sent and recorded.", ["provider"])
BATCH_SECONDS = Histogram(
    "pulse_batch_seconds",
    "Time of one batch request to the provider (failed attempts included).",
    ["provider"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
PROVIDER_ERRORS = Counter(
    "pulse_provider_errors_total",
    "Provider calls that failed: transient (retried), permanent (send paused), prepare.",
    ["provider", "kind"],
)
RATE_LIMIT_WAITS = Counter(
    "pulse_rate_limit_waits_total", "Batches that waited for the send rate or caps."
)
RATE_LIMIT_WAIT_SECONDS = Counter(
    "pulse_rate_limit_wait_seconds_total", "Seconds batches spent waiting for the rate or caps."
)
WEBHOOK_EVENTS = Counter(
    "pulse_webhook_events_total", "Provider events received by webhook.", ["provider", "type"]
)
WEBHOOK_REFUSED = Counter(
    "pulse_webhook_refused_total",
    "Webhook calls refused (bad signature, malformed body).",
    ["provider", "reason"],
)
SCHEDULER_JOBS = Counter(
    "pulse_scheduler_jobs_total", "Outcomes of the weekly clock's runs.", ["outcome"]
)

_RATE_WAIT_THRESHOLD = 0.01  # seconds; shorter is a reservation, not a wait


def record_outcome(provider: str, outcome: Mapping[str, int]) -> None:
    """Count one recorded batch and its per-message outcomes."""
    BATCHES.labels(provider).inc()
    MESSAGES_SENT.labels(provider).inc(outcome.get("sent", 0))
    MESSAGES_FAILED.labels(provider).inc(outcome.get("failed", 0))
    MESSAGES_RETRIED.labels(provider).inc(outcome.get("retry", 0))


@contextmanager
def batch_timer(provider: str) -> Iterator[None]:
    """Time one provider request into ``pulse_batch_seconds``."""
    with BATCH_SECONDS.labels(provider).time():
        yield


def provider_error(provider: str, kind: str) -> None:
    PROVIDER_ERRORS.labels(provider, kind).inc()


@contextmanager
def rate_limit_wait() -> Iterator[None]:
    """Time a reservation against the rate limiter; count it when it had to wait."""
    started = time.monotonic()
    try:
        yield
    finally:
        waited = time.monotonic() - started
        if waited >= _RATE_WAIT_THRESHOLD:
            RATE_LIMIT_WAITS.inc()
            RATE_LIMIT_WAIT_SECONDS.inc(waited)


def webhook_events(provider: str, by_type: Mapping[str, int]) -> None:
    for event_type, count in by_type.items():
        WEBHOOK_EVENTS.labels(provider, str(event_type)).inc(count)


def webhook_refused(provider: str, reason: str) -> None:
    WEBHOOK_REFUSED.labels(provider, reason).inc()


def scheduler_job(outcome: str) -> None:
    SCHEDULER_JOBS.labels(outcome).inc()


# --- database gauges -------------------------------------------------------------------------
