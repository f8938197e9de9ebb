"""Prometheus metrics: every definition in one place, one-line helpers for the code that counts.

Two kinds of numbers:

* **Process counters** (messages, batches, provider errors, rate-limit waits, webhook events,
  scheduler jobs) live in the process that did the work, in prometheus_client's default
  registry: scrape each ``pulse serve``, ``pulse worker --metrics-port`` and
  ``pulse scheduler --metrics-port`` and let Prometheus add them up.
* **Database gauges** (progress of the current issue, its bounce and complaint rates,
  subscribers by status, signups, confirmations and unsubscribes) are read from the database at
  scrape time by :class:`DatabaseCollector`, so every process tells the same truth however many
  share the database.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

__all__ = [
    "CONTENT_TYPE",
    "DatabaseCollector",
    "batch_timer",
    "exposition",
    "provider_error",
    "rate_limit_wait",
    "record_outcome",
    "scheduler_job",
    "serve_metrics",
    "webhook_events",
    "webhook_refused",
]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

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


class DatabaseCollector(Collector):
    """Reads the current issue's progress and the list's changes at scrape time."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def collect(self) -> Iterator[Any]:
        up = GaugeMetricFamily("pulse_database_up", "The database answered this scrape.")
        try:
            with self.sessions() as session:
                families = list(_database_families(session))
        except SQLAlchemyError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families


def _database_families(session: Session) -> Iterator[Any]:
    # Imported here: the engine imports this module, and these import the engine's models.
    from sqlalchemy import func, select

    from pipeline.delivery.outbox import counts_by_status
    from pipeline.delivery.sql_store import measure_health
    from pipeline.events.send_health import event_figures
    from pipeline.issues.models import Issue, IssueStatus
    from subscribers.history import SubscriberChange
    from subscribers.models import SubscriberStatus
    from subscribers.service import count_by_status

    subscribers = GaugeMetricFamily(
        "pulse_subscribers", "Subscribers by status.", labels=["status"]
    )
    for status, count in sorted(count_by_status(session).items()):
        subscribers.add_metric([status.value], count)
    yield subscribers

    changes = session.execute(
        select(
            SubscriberChange.from_status,
            SubscriberChange.to_status,
            SubscriberChange.cause,
            func.count(),
        ).group_by(SubscriberChange.from_status, SubscriberChange.to_status, SubscriberChange.cause)
    ).all()
    signups = CounterMetricFamily("pulse_signups", "Subscribers who joined.", labels=["cause"])
    confirmations = CounterMetricFamily(
        "pulse_confirmations", "Double opt-in confirmations.", labels=["cause"]
    )
    unsubscribes = CounterMetricFamily(
        "pulse_unsubscribes", "Subscribers who left (any path).", labels=["cause"]
    )
    totals: dict[str, dict[str, int]] = {"signup": {}, "confirm": {}, "unsubscribe": {}}
    for from_status, to_status, cause, count in changes:
        if from_status is None:
            kind = "signup"
        elif to_status is SubscriberStatus.ACTIVE and from_status is SubscriberStatus.PENDING:
            kind = "confirm"
        elif to_status is SubscriberStatus.UNSUBSCRIBED:
            kind = "unsubscribe"
        else:
            continue
        totals[kind][cause] = totals[kind].get(cause, 0) + int(count)
    for family, kind in (
        (signups, "signup"),
        (confirmations, "confirm"),
        (unsubscribes, "unsubscribe"),
    ):
        for cause, count in sorted(totals[kind].items()):
            family.add_metric([cause], count)
        yield family

    issue = session.scalar(select(Issue).order_by(Issue.number.desc()).limit(1))
    if issue is None:
        return
    week = [issue.week_key]
    state = GaugeMetricFamily(
        "pulse_issue_state",
        "The current issue's state (1 for its state).",
        labels=["week", "state"],
    )
    for candidate in IssueStatus:
        state.add_metric([issue.week_key, candidate.value], int(issue.status is candidate))
    yield state
    paused = GaugeMetricFamily(
        "pulse_issue_send_paused", "1 while the send is paused.", labels=["week"]
    )
    paused.add_metric(week, int(issue.status is IssueStatus.PAUSED))
    yield paused
    counts = counts_by_status(session, issue.id)
    deliveries = GaugeMetricFamily(
        "pulse_issue_deliveries",
        "The current issue's deliveries by state.",
        labels=["week", "status"],
    )
    for delivery_status, count in sorted(counts.items()):
        deliveries.add_metric([issue.week_key, delivery_status.value], count)
    yield deliveries
    total = sum(counts.values())
    done = sum(
        count for key, count in counts.items() if key.value in ("sent", "failed", "skipped")
    )
    progress = GaugeMetricFamily(
        "pulse_issue_progress_ratio",
        "Share of the current issue's deliveries finished.",
        labels=["week"],
    )
    progress.add_metric(week, done / total if total else 0.0)
    yield progress
    health = measure_health(session, issue.id, event_figures)
    bounce = GaugeMetricFamily(
        "pulse_issue_hard_bounce_ratio",
        "Hard bounces per message sent, current issue.",
        labels=["week"],
    )
    bounce.add_metric(week, health.hard_bounces / health.sent if health.sent else 0.0)
    yield bounce
    complaint = GaugeMetricFamily(
        "pulse_issue_complaint_ratio",
        "Complaints per message sent, current issue.",
        labels=["week"],
    )
    complaint.add_metric(week, health.complaints / health.sent if health.sent else 0.0)
    yield complaint


class _Everything(Collector):
    """The process counters and the database gauges as one registry."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.database = DatabaseCollector(sessions)

    def collect(self) -> Iterator[Any]:
        yield from REGISTRY.collect()
        yield from self.database.collect()


def registry_for(sessions: sessionmaker[Session]) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Everything(sessions))
    return registry


def exposition(sessions: sessionmaker[Session]) -> bytes:
    """The text exposition of every metric, for ``GET /metrics``."""
    return generate_latest(registry_for(sessions))


def serve_metrics(port: int, host: str, sessions: sessionmaker[Session]) -> int:
    """``--metrics-port``: serve ``/metrics`` from a background thread; returns the port."""
    from prometheus_client import start_http_server

    server, _thread = start_http_server(port, addr=host, registry=registry_for(sessions))
    return int(server.server_port)
